// SIGINT and SIGTERM in the CLI. While kunsim holds a temporary output, a signal is recorded
// (sim/core/interruption.hpp) and the run stops at its next safe point, removing the temporary
// and leaving the old output as it was; main() then exits 130 or 143. With no temporary held
// (validate, a run past its commit), or at a second signal, the signal ends the process at once,
// as it would any program.
#pragma once

namespace kunsim {

void install_signal_handlers();

}  // namespace kunsim
