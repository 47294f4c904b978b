#include "common/shutdown_signal.h"

#include <pthread.h>
#include <signal.h>

#include <thread>

namespace simclr {
namespace {

sigset_t ShutdownSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockShutdownSignals() {
  sigset_t set = ShutdownSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void NotifyOnShutdownSignal(absl::Notification* shutdown) {
  std::thread([shutdown] {
    sigset_t set = ShutdownSet();
    int signal = 0;
    sigwait(&set, &signal);
    if (!shutdown->HasBeenNotified()) shutdown->Notify();
  }).detach();
}

}  // namespace simclr
