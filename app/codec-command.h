// `slsim codec`: compress one float32 .npy tensor with a codec and report what it cost.
//
//   slsim codec --method ms --sparsity 0.99 --bits 2 --in x.npy --out y.npy [--wire w.bin]
//
// Reads x.npy (float32, C order, any shape), encodes it, decodes the blob, writes the
// reconstruction to --out and optionally the wire bytes to --wire, and prints one JSON line:
//   {"method":"ms","shape":[256,64,16,16],"n":4194304,"k":41943,"bytes":1216612,
//    "bits_per_element":2.32...,"rel_l2_error":0.05...}
// Other options: --index auto|bitmap|u32, --randtopk-a A, --floor, --signed, --stochastic,
// --budget BITS_PER_ELEMENT, --seed N (randomized codecs; stream "codec").
// Bad flags or files throw InputError (main prints it and exits with 2).
#ifndef SLSIM_APP_CODEC_COMMAND_H
#define SLSIM_APP_CODEC_COMMAND_H

#include <iosfwd>
#include <string>
#include <vector>

namespace slsim
{

/// Runs the subcommand; args are the words after `codec`. Prints the JSON line (or the usage
/// for --help) to `out`. Returns the exit status (0).
int RunCodecCommand(const std::vector<std::string>& args, std::ostream& out);

/// Same, printing to std::cout.
int RunCodecCommand(const std::vector<std::string>& args);

} // namespace slsim

#endif
