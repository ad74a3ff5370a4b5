// ThreadSanitizer build only (INTAKE_TSAN): C11 <threads.h> calls routed to their pthread twins.
//
// librdkafka creates its threads and takes its locks through glibc's C11 thread functions, which
// glibc implements by calling pthread internals directly — past the pthread interceptors of
// g++ 12's libtsan. A thread it starts that way has no TSan state (the first malloc on it
// crashes), and its locks order nothing TSan can see. Defined in the executable, these take
// precedence over glibc's for every library, and go through the intercepted pthread calls.
// glibc's mtx_t / cnd_t / once_flag are layout twins of pthread_mutex_t / pthread_cond_t /
// pthread_once_t (glibc casts between them the same way).
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <new>

namespace {

struct ThreadStart {
  thrd_start_t function;
  void* argument;
};

void* run_thread(void* start_pointer) {
  const ThreadStart start = *static_cast<ThreadStart*>(start_pointer);
  delete static_cast<ThreadStart*>(start_pointer);
  return reinterpret_cast<void*>(static_cast<std::intptr_t>(start.function(start.argument)));
}

int from_errno(int error) {
  if (error == 0) return thrd_success;
  if (error == ETIMEDOUT) return thrd_timedout;
  if (error == EBUSY) return thrd_busy;
  if (error == ENOMEM) return thrd_nomem;
  return thrd_error;
}

pthread_mutex_t* as_pthread(mtx_t* mutex) { return reinterpret_cast<pthread_mutex_t*>(mutex); }
pthread_cond_t* as_pthread(cnd_t* condition) { return reinterpret_cast<pthread_cond_t*>(condition); }

}  // namespace

extern "C" {

int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
  auto* start = new (std::nothrow) ThreadStart{function, argument};
  if (start == nullptr) return thrd_nomem;
  const int error = pthread_create(thread, nullptr, run_thread, start);
  if (error != 0) delete start;
  return from_errno(error);
}

int thrd_join(thrd_t thread, int* result) {
  void* returned = nullptr;
  const int error = pthread_join(thread, &returned);
  if (error == 0 && result != nullptr) *result = static_cast<int>(reinterpret_cast<std::intptr_t>(returned));
  return from_errno(error);
}

int thrd_detach(thrd_t thread) { return from_errno(pthread_detach(thread)); }

int mtx_init(mtx_t* mutex, int type) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  if ((type & mtx_recursive) != 0) pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
  const int error = pthread_mutex_init(as_pthread(mutex), &attributes);
  pthread_mutexattr_destroy(&attributes);
  return from_errno(error);
}
int mtx_lock(mtx_t* mutex) { return from_errno(pthread_mutex_lock(as_pthread(mutex))); }
int mtx_trylock(mtx_t* mutex) { return from_errno(pthread_mutex_trylock(as_pthread(mutex))); }
int mtx_timedlock(mtx_t* mutex, const struct timespec* until) {
  return from_errno(pthread_mutex_timedlock(as_pthread(mutex), until));
}
int mtx_unlock(mtx_t* mutex) { return from_errno(pthread_mutex_unlock(as_pthread(mutex))); }
void mtx_destroy(mtx_t* mutex) { pthread_mutex_destroy(as_pthread(mutex)); }

int cnd_init(cnd_t* condition) { return from_errno(pthread_cond_init(as_pthread(condition), nullptr)); }
int cnd_signal(cnd_t* condition) { return from_errno(pthread_cond_signal(as_pthread(condition))); }
int cnd_broadcast(cnd_t* condition) { return from_errno(pthread_cond_broadcast(as_pthread(condition))); }
int cnd_wait(cnd_t* condition, mtx_t* mutex) {
  return from_errno(pthread_cond_wait(as_pthread(condition), as_pthread(mutex)));
}
int cnd_timedwait(cnd_t* condition, mtx_t* mutex, const struct timespec* until) {
  return from_errno(pthread_cond_timedwait(as_pthread(condition), as_pthread(mutex), until));
}
void cnd_destroy(cnd_t* condition) { pthread_cond_destroy(as_pthread(condition)); }

void call_once(once_flag* flag, void (*function)()) { pthread_once(reinterpret_cast<pthread_once_t*>(flag), function); }

}  // extern "C"
