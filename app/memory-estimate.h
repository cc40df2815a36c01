// A dry estimate of what a run will hold in memory, made from the validated scenario before
// anything is allocated, and the check against the memory available.
//
// The terms (bytes; each is an upper bound of what the run keeps at its peak):
//   models      each model part copy holds parameters, gradients, non-trainable buffers (running
//               statistics) and optimizer state (SGD momentum: 1 float per parameter; Adam: 2),
//               4 bytes each. Copies: one device part per device plus the server's evaluation copy;
//               the server part once per device when the schedule keeps per-device server copies
//               (SplitFed v1), else once. A replay builds one copy of each part. U-shaped
//               (model.head_cut): the device part includes the head. Per-device cuts: each device's
//               part at its own cut; the server part once per distinct cut (per device at its cut
//               with per-device copies), plus a device part per distinct cut (the agreed states).
//   activations per copy, per sample: every layer's output and its gradient (2 floats) plus the
//               largest im2col workspace (9 floats per input element: a 3x3 convolution) of the
//               part; times the training batch (device parts) or max(batch, eval batch) (server).
//   dataset     (pixels + label) x (the whole train and test splits, read before a subset is
//               taken, + twice the samples kept: the subset's copy and the partition's); an
//               upper bound for CIFAR-10's binary batches, whose subsets read only their records.
//   network     per device: ~256 KiB of ns-3 node, stack and socket state (measured: 1,000-device
//               scenario) plus every frame that can be in flight at once, each held twice (the
//               sender's copy and the assembler's): an uplink and a downlink frame of a batch
//               (EncodedSize of the cut activations; U-shaped: plus the server output and the head
//               gradient at the head cut) and the device part's state at a sync, at the device's
//               own cut.
//   base        32 MiB: the process with ns-3, Eigen and OpenBLAS loaded, recorders, CSV
//               buffers (quickstart peaks at 22 MiB in all).
// Measured against max RSS on shipped scenarios in app/README.md.
#ifndef SLSIM_APP_MEMORY_ESTIMATE_H
#define SLSIM_APP_MEMORY_ESTIMATE_H

#include "sim/scenario-config.h"

#include <string>

namespace slsim
{

struct MemoryEstimate
{
    double models = 0, activations = 0, dataset = 0, network = 0, base = 0; // bytes
    double deviceCopies = 0, serverCopies = 0;                              // model part copies
    double deviceBytes = 0, serverBytes = 0; // of all device / server part copies (models)

    double Total() const
    {
        return models + activations + dataset + network + base;
    }

    /// "1.2 GB (models 800 MB = 11 device parts 798 MB + 1 server parts 2 MB, activations ...,
    /// dataset ..., network ..., base 67 MB)"
    std::string Describe() const;
};

/// The estimate for a validated scenario (inspects the dataset files' headers for their sizes).
MemoryEstimate EstimateMemory(const ScenarioConfig& config);

/// Bytes available to a run: SLSIM_MEMORY_AVAILABLE_MB when set (for tests and for runs sharing a
/// machine; a positive number of MB, 10^6 bytes), else MemAvailable from /proc/meminfo; `source`
/// names which. Returns infinity when neither can be read.
double AvailableMemory(std::string* source = nullptr);

/// Throws InputError("memory: ...") with the estimate when it exceeds the available memory.
void CheckMemory(const MemoryEstimate& estimate);

/// Bytes as "1.23 GB" (SI units, 3 significant digits).
std::string FormatBytes(double bytes);

} // namespace slsim

#endif
