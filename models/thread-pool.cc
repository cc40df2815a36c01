#include "models/thread-pool.h"

#include "common/error.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace slsim
{

namespace
{

thread_local bool t_inTask = false;
thread_local int t_slot = 0;
thread_local int64_t t_task = 0;

// Checks of the job counter a worker makes before it sleeps after a job (a few microseconds):
// consecutive layers' tasks then find it awake on an idle machine. Each check yields the core, so
// a busy machine loses nothing to it (unlike libgomp's default 300 000 spins).
constexpr int YIELDS_BEFORE_SLEEP = 16;

class Pool
{
  public:
    ~Pool()
    {
        Resize(1);
    }

    void Resize(int n)
    {
        SLSIM_ASSERT_MSG(!t_inTask, "SetPoolThreads called from inside a task");
        {
            std::lock_guard<std::mutex> lock(m_mu);
            m_stop = true;
            m_gen.fetch_add(1, std::memory_order_release);
        }
        m_wake.notify_all();
        for (auto& w : m_workers)
        {
            w.join();
        }
        m_workers.clear();
        m_stop = false;
        m_threads = n;
        // the generation a worker has seen is taken here, not when the thread first runs: a job
        // or a stop posted before that would otherwise be missed (and a stop wait forever)
        const uint64_t gen = m_gen.load(std::memory_order_acquire);
        for (int slot = 1; slot < n; ++slot)
        {
            m_workers.emplace_back([this, slot, gen] { WorkerLoop(slot, gen); });
        }
    }

    int Threads() const
    {
        return m_threads;
    }

    void Run(int64_t tasks, void (*call)(void*, int64_t, int), void* ctx)
    {
        if (m_threads == 1 || tasks == 1 || t_inTask)
        {
            const bool outer = t_inTask;
            t_inTask = true;
            const int64_t outerTask = t_task;
            for (int64_t t = 0; t < tasks; ++t)
            {
                t_task = outer ? outerTask : t;
                call(ctx, t, outer ? t_slot : 0);
            }
            t_task = outerTask;
            t_inTask = outer;
            return;
        }
        {
            std::lock_guard<std::mutex> lock(m_mu);
            m_call = call;
            m_ctx = ctx;
            m_tasks = tasks;
            m_next = 0;
            m_done = 0;
            m_gen.fetch_add(1, std::memory_order_release);
        }
        m_wake.notify_all();
        Work(0);
        // tasks still running on workers: yield the core a few times before sleeping (a sleeping
        // caller must be woken and scheduled again, which on a busy machine takes a time slice)
        for (int i = 0; i < YIELDS_BEFORE_SLEEP && m_done.load(std::memory_order_acquire) != tasks;
             ++i)
        {
            std::this_thread::yield();
        }
        std::unique_lock<std::mutex> lock(m_mu);
        m_finished.wait(lock, [this] { return m_done.load(std::memory_order_relaxed) == m_tasks; });
        m_call = nullptr;
    }

  private:
    /// Takes tasks of the current job one at a time until none is left.
    void Work(int slot)
    {
        t_slot = slot;
        t_inTask = true;
        std::unique_lock<std::mutex> lock(m_mu);
        while (m_call && m_next < m_tasks)
        {
            const int64_t task = m_next++;
            auto* call = m_call;
            void* ctx = m_ctx;
            lock.unlock();
            t_task = task;
            call(ctx, task, slot);
            lock.lock();
            if (m_done.fetch_add(1, std::memory_order_release) + 1 == m_tasks)
            {
                m_finished.notify_one();
            }
        }
        t_inTask = false;
    }

    void WorkerLoop(int slot, uint64_t seen)
    {
        for (;;)
        {
            for (int i = 0;
                 i < YIELDS_BEFORE_SLEEP && m_gen.load(std::memory_order_acquire) == seen; ++i)
            {
                std::this_thread::yield();
            }
            {
                std::unique_lock<std::mutex> lock(m_mu);
                m_wake.wait(lock, [&] { return m_gen.load(std::memory_order_relaxed) != seen; });
                seen = m_gen.load(std::memory_order_relaxed);
                if (m_stop)
                {
                    return;
                }
            }
            Work(slot);
        }
    }

    std::mutex m_mu;
    std::condition_variable m_wake;
    std::condition_variable m_finished;
    std::vector<std::thread> m_workers;
    std::atomic<uint64_t> m_gen{0};
    bool m_stop = false;
    int m_threads = 1;
    // the current job (guarded by m_mu)
    void (*m_call)(void*, int64_t, int) = nullptr;
    void* m_ctx = nullptr;
    int64_t m_tasks = 0;
    int64_t m_next = 0;
    std::atomic<int64_t> m_done{0};
};

Pool&
ThePool()
{
    static Pool pool;
    return pool;
}

} // namespace

void
SetPoolThreads(int n)
{
    SLSIM_ASSERT(n >= 1);
    if (n != ThePool().Threads())
    {
        ThePool().Resize(n);
    }
}

int
PoolThreads()
{
    return ThePool().Threads();
}

bool
InPoolTask()
{
    return t_inTask;
}

int
PoolSlot()
{
    return t_inTask ? t_slot : 0;
}

int64_t
PoolTask()
{
    return t_inTask ? t_task : 0;
}

void
RunTasksRaw(int64_t tasks, void (*call)(void*, int64_t, int), void* ctx)
{
    ThePool().Run(tasks, call, ctx);
}

} // namespace slsim
