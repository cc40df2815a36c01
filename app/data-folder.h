// Where a real dataset's files are looked for (synthetic needs none). Precedence:
//   1. dataset.path when given (relative to the working directory);
//   2. $SLSIM_DATA_DIR/<name> when SLSIM_DATA_DIR is set (scripts/fetch-data writes there too);
//   3. data/<name> in the working directory;
//   4. data/<name> in the repository slsim was built in (the executable's folder's parent, when it
//      holds scripts/fetch-data), so that build/slsim finds the fetched data from any folder.
#ifndef SLSIM_APP_DATA_FOLDER_H
#define SLSIM_APP_DATA_FOLDER_H

#include <string>

namespace slsim
{

/// The folder for dataset `name` (path = dataset.path, "" when not given). Throws InputError
/// "dataset.path: ..." naming every folder searched and the fetch command (with the repository's
/// folder, not the working directory's).
std::string FindDataFolder(const std::string& name, const std::string& path);

} // namespace slsim

#endif
