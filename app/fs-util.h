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
/// Forwards to WriteFileAtomic (common/atomic-file.h), whose temporary names are unique per process
/// and writer, so several processes (MPI ranks) may write the same file at once. Callers: switch
/// to WriteFileAtomic; this forward goes when none is left.
void WriteFileAtomicShared(const std::string& path, const std::string& content);
/// Names in a folder (not recursive), sorted; empty when the folder is absent.
std::vector<std::string> ListDirectory(const std::string& dir);
/// Absolute, lexically normal form of a path.
std::string AbsolutePath(const std::string& path);

} // namespace slsim

#endif
