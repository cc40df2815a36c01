#include "common/atomic-file.h"

#include "common/error.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace slsim
{
namespace
{

// Bytes gathered before one write(2): large enough that a CSV row costs no system call, small
// enough not to matter next to the data it holds.
constexpr size_t BUFFER_BYTES = size_t{1} << 16;

std::string
TemporarySibling(const std::string& path)
{
    static std::atomic<unsigned long> counter{0};
    return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

std::string
Reason()
{
    return std::strerror(errno);
}

/// Makes a rename in `path`'s folder durable. Best effort: some file systems refuse to open or
/// fsync a folder, and the rename itself is already atomic.
void
SyncFolderOf(const std::string& path)
{
    const size_t slash = path.rfind('/');
    const std::string folder
        = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
    {
        ::fsync(fd);
        ::close(fd);
    }
}

} // namespace

AtomicFile::AtomicFile(const std::string& path)
    : m_path(path),
      m_tmpPath(TemporarySibling(path))
{
    m_fd = ::open(m_tmpPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (m_fd < 0)
    {
        throw InputError(m_path + ": cannot open for writing (" + Reason() + ")");
    }
    m_buffer.reserve(BUFFER_BYTES);
}

AtomicFile::~AtomicFile()
{
    if (!m_committed)
    {
        Abandon();
    }
}

void
AtomicFile::Abandon()
{
    if (m_fd >= 0)
    {
        ::close(m_fd);
        m_fd = -1;
    }
    std::remove(m_tmpPath.c_str());
}

void
AtomicFile::Write(std::string_view bytes)
{
    SLSIM_ASSERT_MSG(m_fd >= 0, "AtomicFile::Write after Commit");
    if (m_buffer.size() + bytes.size() > BUFFER_BYTES)
    {
        Flush();
    }
    if (bytes.size() >= BUFFER_BYTES)
    {
        m_buffer.assign(bytes.data(), bytes.size());
        Flush();
        return;
    }
    m_buffer.append(bytes.data(), bytes.size());
}

void
AtomicFile::Flush()
{
    const char* p = m_buffer.data();
    size_t left = m_buffer.size();
    while (left > 0)
    {
        const ssize_t n = ::write(m_fd, p, left);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n <= 0)
        {
            const std::string reason = n < 0 ? Reason() : "no progress";
            Abandon();
            throw InputError(m_path + ": write failed (" + reason + ")");
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
    m_buffer.clear();
}

void
AtomicFile::Commit()
{
    SLSIM_ASSERT_MSG(m_fd >= 0, "AtomicFile::Commit twice");
    Flush();
    if (::fsync(m_fd) != 0 && errno != EINVAL) // EINVAL: a file system without fsync
    {
        const std::string reason = Reason();
        Abandon();
        throw InputError(m_path + ": write failed (" + reason + ")");
    }
    const int fd = m_fd;
    m_fd = -1;
    if (::close(fd) != 0)
    {
        const std::string reason = Reason();
        Abandon();
        throw InputError(m_path + ": write failed (" + reason + ")");
    }
    if (std::rename(m_tmpPath.c_str(), m_path.c_str()) != 0)
    {
        const std::string reason = Reason();
        Abandon();
        throw InputError(m_path + ": cannot rename the temporary file into place (" + reason + ")");
    }
    m_committed = true;
    SyncFolderOf(m_path);
}

void
WriteFileAtomic(const std::string& path, std::string_view content)
{
    AtomicFile file(path);
    file.Write(content);
    file.Commit();
}

} // namespace slsim
