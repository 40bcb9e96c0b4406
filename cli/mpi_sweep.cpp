#include "mpi_sweep.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>

#ifdef KUNSIM_WITH_MPI
#include <mpi.h>
#endif

namespace kunsim {
namespace {
bool started = false;

// Rows travel as "index\\trow\\n" lines; an error as a line starting with '!'.
std::string pack(const std::vector<std::pair<std::size_t, std::string>>& rows, const std::string& error) {
  std::string s = error.empty() ? "" : "!" + error + "\n";
  for (const auto& [i, row] : rows) s += std::to_string(i) + "\t" + row + "\n";
  return s;
}
}  // namespace

SweepRanks mpi_start(int* argc, char*** argv) {
  SweepRanks r;
#ifdef KUNSIM_WITH_MPI
  // Only under a launcher: a plain `kunsim sweep` must not need an MPI runtime.
  if (std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK")) {
    MPI_Init(argc, argv);
    started = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &r.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &r.size);
  }
#else
  (void)argc;
  (void)argv;
#endif
  return r;
}

void mpi_stop() {
#ifdef KUNSIM_WITH_MPI
  if (started) MPI_Finalize();
  started = false;
#endif
}

void mpi_barrier(const SweepRanks& ranks) {
#ifdef KUNSIM_WITH_MPI
  if (started && ranks.size > 1) MPI_Barrier(MPI_COMM_WORLD);
#else
  (void)ranks;
#endif
}

std::vector<std::pair<std::size_t, std::string>> mpi_gather_rows(const std::vector<std::pair<std::size_t, std::string>>& mine,
                                                                 const SweepRanks& ranks, std::string& error) {
  if (ranks.size == 1) return mine;
  std::string all;
#ifdef KUNSIM_WITH_MPI
  const std::string packed = pack(mine, error);
  int len = static_cast<int>(packed.size());
  std::vector<int> lens(ranks.size), offsets(ranks.size, 0);
  MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  int total = 0;
  if (ranks.rank == 0)
    for (int i = 0; i < ranks.size; ++i) {
      offsets[i] = total;
      total += lens[i];
    }
  all.resize(ranks.rank == 0 ? total : 0);
  MPI_Gatherv(packed.data(), len, MPI_CHAR, all.data(), lens.data(), offsets.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
  // Every rank learns whether any failed, so all exit alike.
  int failed = error.empty() ? 0 : 1, any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (any && error.empty()) error = "another rank failed";
#endif
  std::vector<std::pair<std::size_t, std::string>> rows;
  std::istringstream in(all);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '!') {
      if (error.empty() || error == "another rank failed") error = line.substr(1);
      continue;
    }
    const auto tab = line.find('\t');
    rows.emplace_back(std::stoull(line.substr(0, tab)), line.substr(tab + 1));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace kunsim
