// MpiSweep: a sweep spread over MPI ranks (`mpirun -n R kunsim sweep SWEEP.json`). Rank r runs
// the runs with index % R == r, on its own threads; rank 0 gathers every row and writes the
// one sweep.csv, which is identical to a single-process sweep's. Without MPI (not built with
// it, or not started by mpirun) the sweep runs in this process alone.
#pragma once
#include <string>
#include <vector>

namespace kunsim {

struct SweepRanks {
  int rank = 0, size = 1;
};

// Starts MPI when this process was launched by an MPI launcher; a no-op otherwise.
SweepRanks mpi_start(int* argc, char*** argv);
void mpi_stop();
// Waits until every rank gets here (a no-op without MPI).
void mpi_barrier(const SweepRanks& ranks);
// Every rank's (index, row) pairs, on rank 0 sorted by index; empty on other ranks. `error`
// is this rank's failure (empty if none); the first failure of any rank is returned on all.
std::vector<std::pair<std::size_t, std::string>> mpi_gather_rows(const std::vector<std::pair<std::size_t, std::string>>& mine,
                                                                 const SweepRanks& ranks, std::string& error);

}  // namespace kunsim
