// Small file-system helpers for the CLI (std::filesystem with InputError naming the path).
#ifndef SLSIM_APP_FS_UTIL_H
#define SLSIM_APP_FS_UTIL_H

#include <string>
#include <vector>

namespace slsim
{

/// mkdir -p; throws InputError naming the folder.
void MakeDirectories(const std::string& dir);
void RemoveFileIfExists(const std::string& path);
/// rm -rf (no error when absent).
void RemoveTree(const std::string& path);
bool PathExists(const std::string& path);
/// Whole file as a string; throws InputError naming the file.
std::string ReadTextFile(const std::string& path);
/// Names in a folder (not recursive), sorted; empty when the folder is absent.
std::vector<std::string> ListDirectory(const std::string& dir);
/// Absolute, lexically normal form of a path.
std::string AbsolutePath(const std::string& path);

/// A result folder that is complete or absent. Its files are written under a temporary sibling
/// ".NAME.tmp-PID" (so a reader never sees a half-written folder as results); Commit() renames it
/// into place, atomically replacing an existing folder (renameat2 RENAME_EXCHANGE). Entries of
/// the replaced folder that are not results (not *.csv, not manifest.json: e.g. a sweep point's
/// scenario.json, point.json and run.log) are carried into the new one. Destroyed uncommitted (an
/// error), the temporary is removed; a killed process's temporary is removed by the next
/// StagedFolder for the same folder.
class StagedFolder
{
  public:
    /// Creates the temporary (and the parent folders); throws InputError naming the folder.
    explicit StagedFolder(const std::string& dir);
    ~StagedFolder();
    StagedFolder(const StagedFolder&) = delete;
    StagedFolder& operator=(const StagedFolder&) = delete;

    /// Where to write the files.
    const std::string& Path() const
    {
        return m_tmp;
    }

    /// Moves the temporary into place; throws InputError naming the folder.
    void Commit();

  private:
    std::string m_dir;
    std::string m_tmp;
    bool m_committed = false;
};

} // namespace slsim

#endif
