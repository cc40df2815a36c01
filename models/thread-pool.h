// The engine's own threads: a small pool whose idle workers sleep (no spin-waiting on a busy
// machine), with tasks handed out one at a time so that a worker the OS does not schedule costs
// the caller nothing (the caller takes the tasks that worker would have taken).
//
// Determinism contract: callers split their work into tasks whose number and boundaries do not
// depend on the thread count, and combine the tasks' results in task order. Which thread runs a
// task then changes nothing, so results are bit-identical for any thread count (issue 14). The
// `slot` passed to a task only selects per-thread scratch memory (never results).
//
// Why not OpenMP: libgomp reads its wait policy once, when it is loaded, and by default spins
// for up to 300 000 iterations (~0.1-1 ms) at every fork/join; with the cores shared by another
// process that made two threads 8-20x slower than one (issues 14 and 15). Its static schedules
// also tie each share of the work to one thread.
#ifndef SLSIM_MODELS_THREAD_POOL_H
#define SLSIM_MODELS_THREAD_POOL_H

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace slsim
{

/// Sets the number of threads (caller included) that run tasks; n >= 1. Starts or stops
/// workers; call between steps, never from inside a task.
void SetPoolThreads(int n);

/// The thread count set by SetPoolThreads (1 before any call).
int PoolThreads();

/// True inside a task (a nested RunTasks then runs its tasks serially on the current thread).
bool InPoolTask();

/// The slot of the running task (0 outside tasks): selects per-thread scratch.
int PoolSlot();

/// The index of the running outermost task (0 outside tasks): selects scratch whose size must not
/// depend on which thread ran what (steady-state steps allocate nothing).
int64_t PoolTask();

/// Runs call(ctx, task, slot) for every task in [0, tasks) on the pool and the calling thread;
/// returns when all have finished. slot in [0, PoolThreads()) is unique among the tasks
/// running at one time (0 = the calling thread). Not re-entrant across caller threads.
void RunTasksRaw(int64_t tasks, void (*call)(void*, int64_t, int), void* ctx);

/// RunTasks(tasks, [&](int64_t task, int slot) { ... }): see RunTasksRaw.
template <class F>
void
RunTasks(int64_t tasks, F&& body)
{
    if (tasks <= 0)
    {
        return;
    }
    RunTasksRaw(
        tasks, [](void* ctx, int64_t task, int slot) { (*static_cast<F*>(ctx))(task, slot); },
        static_cast<void*>(&body));
}

/// Loops over fewer values than this run on one thread: waking a sleeping worker costs
/// microseconds, and far more when the cores are shared with other processes.
constexpr size_t PARALLEL_MIN_WORK = size_t{1} << 15;

/// body(i) for i in [begin, end), split into contiguous blocks when `work` (a rough count of
/// operations) reaches PARALLEL_MIN_WORK. For loops whose iterations are independent (each
/// writes its own outputs), where the split cannot change a result.
template <class F>
void
ParallelFor(int64_t begin, int64_t end, size_t work, F&& body)
{
    const int64_t n = end - begin;
    if (n <= 0)
    {
        return;
    }
    // 4 blocks per thread: a thread that gets less CPU time takes fewer of them
    const int64_t blocks
        = work >= PARALLEL_MIN_WORK && !InPoolTask() ? std::min<int64_t>(n, 4 * PoolThreads()) : 1;
    if (blocks == 1)
    {
        for (int64_t i = begin; i < end; ++i)
        {
            body(i);
        }
        return;
    }
    RunTasks(blocks, [&](int64_t b, int) {
        const int64_t lo = begin + n * b / blocks;
        const int64_t hi = begin + n * (b + 1) / blocks;
        for (int64_t i = lo; i < hi; ++i)
        {
            body(i);
        }
    });
}

/// body(lo, hi) over contiguous blocks covering [0, n), split like ParallelFor. For element-wise
/// kernels written over raw __restrict pointers (a per-element lambda would reload its captured
/// pointers after every store and not vectorise).
template <class F>
void
ParallelBlocks(int64_t n, size_t work, F&& body)
{
    if (n <= 0)
    {
        return;
    }
    const int64_t blocks
        = work >= PARALLEL_MIN_WORK && !InPoolTask() ? std::min<int64_t>(n, 4 * PoolThreads()) : 1;
    if (blocks == 1)
    {
        body(int64_t{0}, n);
        return;
    }
    RunTasks(blocks, [&](int64_t b, int) { body(n * b / blocks, n * (b + 1) / blocks); });
}

} // namespace slsim

#endif
