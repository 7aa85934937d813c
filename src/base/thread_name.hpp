#pragma once
// Names the calling thread, as `top -H`, `ps -L`, `perf` and debuggers show it: the framework's threads
// are told apart by name (igniter-loop, igniter-worker, ...). Linux keeps 15 characters.

#include <pthread.h>

namespace igniter {

inline void name_this_thread(const char* name) noexcept {
  pthread_setname_np(pthread_self(), name);
}

}  // namespace igniter
