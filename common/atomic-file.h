// Files that appear whole or not at all: the one way slsim writes a result, manifest or blob.
//
// Bytes go to a temporary sibling "<path>.tmp.<pid>.<n>" (same folder, so the rename cannot cross
// file systems; the process id and a per-process counter make it unique, so several processes
// (sweep workers, MPI ranks) or threads may write the same path at once: the last rename wins and
// every version a reader sees is whole). Commit() flushes, fsyncs the file, renames it over
// <path> (atomic on POSIX) and fsyncs the folder, so after a crash the file is either the old one
// or the new one. A writer destroyed before Commit(), or a Commit() that fails, removes the
// temporary file and leaves <path> as it was.
//
// POSIX (open/write/fsync/rename) rather than std only: std::ofstream cannot fsync.
#ifndef SLSIM_COMMON_ATOMIC_FILE_H
#define SLSIM_COMMON_ATOMIC_FILE_H

#include <cstddef>
#include <string>
#include <string_view>

namespace slsim
{

class AtomicFile
{
  public:
    /// Creates the temporary sibling; throws InputError naming `path` when it cannot.
    explicit AtomicFile(const std::string& path);
    ~AtomicFile(); // removes the temporary file unless Commit() succeeded
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    /// Appends bytes (buffered); throws InputError naming the file when the disk refuses them.
    void Write(std::string_view bytes);
    /// Flushes, fsyncs and renames the temporary file to Path(). Throws InputError naming the
    /// file on failure (the temporary file is then gone and Path() unchanged).
    void Commit();

    const std::string& Path() const
    {
        return m_path;
    }

    const std::string& TemporaryPath() const
    {
        return m_tmpPath;
    }

  private:
    void Flush();
    void Abandon();

    std::string m_path;
    std::string m_tmpPath;
    int m_fd = -1;
    std::string m_buffer;
    bool m_committed = false;
};

/// Writes `content` to `path` through an AtomicFile. Throws InputError naming the file.
void WriteFileAtomic(const std::string& path, std::string_view content);

} // namespace slsim

#endif
