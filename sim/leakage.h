// Cut-layer leakage: how much the cut activations, as the server receives them (after the uplink
// codec's encode and decode), reveal about the device's input, measured as the bias-corrected
// squared distance correlation R*_n (models/distance-correlation.h) on a fixed evaluation subset.
// No ns-3 here; TrainingServer::Evaluate calls it at every evaluation (eval.csv's cut_dcor_sq).
#ifndef SLSIM_SIM_LEAKAGE_H
#define SLSIM_SIM_LEAKAGE_H

#include "common/rng.h"
#include "compression/codec.h"
#include "models/data/dataset.h"
#include "models/split-model.h"
#include "sim/training-data.h"

namespace slsim
{

/// R*_n between the first `samples` test samples (as the device gets them: normalised, not
/// augmented) and their cut activations from `device` in evaluation mode (BN running statistics,
/// no dropout), each message of `messageBatch` samples (training.batch_size, as a training
/// ACTIVATIONS message holds) through `uplink`'s encode and decode drawing from `codecRng`. The
/// subset is min(samples, test size) samples; NaN when that is below 4 (R*_n needs n >= 4) or
/// `samples` is 0 (off). Cost O(n^2 (input + cut size)) and one device forward of n samples.
double CutLeakage(Partition& device, const BatchMaker& test, size_t testSize, Codec& uplink,
                  int samples, int messageBatch, Rng codecRng, SplitScratch& scratch);

} // namespace slsim

#endif
