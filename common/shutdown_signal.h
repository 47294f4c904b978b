// Clean shutdown on SIGTERM and SIGINT for the daemons.
//
// Signals are blocked in every thread and taken by one waiting thread with
// sigwait(), so nothing runs in signal-handler context:
//
//   int main(int argc, char** argv) {
//     simclr::BlockShutdownSignals();          // before any thread starts
//     ...
//     absl::Notification shutdown;
//     simclr::NotifyOnShutdownSignal(&shutdown);
//     shutdown.WaitForNotification();
#ifndef SIMCLR_COMMON_SHUTDOWN_SIGNAL_H_
#define SIMCLR_COMMON_SHUTDOWN_SIGNAL_H_

#include "absl/synchronization/notification.h"

namespace simclr {

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts
// afterwards. Call first in main.
void BlockShutdownSignals();

// Starts a detached thread that waits for SIGTERM or SIGINT and then notifies
// `shutdown` (not owned; must live until the process exits), unless it has
// already been notified.
void NotifyOnShutdownSignal(absl::Notification* shutdown);

}  // namespace simclr

#endif  // SIMCLR_COMMON_SHUTDOWN_SIGNAL_H_
