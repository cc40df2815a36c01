// The compute-time model: how many simulated seconds a batch of model work takes on a machine.
// Simulated time advances only through this model and through the links; the wall clock never
// enters it, so results are deterministic.
//
//   seconds = FLOPs per sample * batch / (GFLOP/s * 1e9)
//
// FLOPs per sample come from the partition (Partition::FlopsPerSample: forward and backward
// separately); GFLOP/s from the scenario (network.devices[i].gflops, network.server_gflops).
#ifndef SLSIM_SIM_COMPUTE_MODEL_H
#define SLSIM_SIM_COMPUTE_MODEL_H

#include "models/split-model.h"

namespace slsim
{

class ComputeModel
{
  public:
    ComputeModel() = default;

    /// perSample: the FLOPs of the partition this machine runs; gflops: its speed (> 0).
    ComputeModel(Flops perSample, double gflops)
        : m_flops(perSample),
          m_gflops(gflops)
    {
    }

    /// A forward pass over `batch` samples.
    double ForwardSeconds(int batch) const
    {
        return m_flops.forward * batch / (m_gflops * 1e9);
    }

    /// A backward pass (gradients and the optimizer step) over `batch` samples.
    double BackwardSeconds(int batch) const
    {
        return m_flops.backward * batch / (m_gflops * 1e9);
    }

    /// Forward and backward together, as one unit of work (the server's step).
    double StepSeconds(int batch) const
    {
        return (m_flops.forward + m_flops.backward) * batch / (m_gflops * 1e9);
    }

  private:
    Flops m_flops;
    double m_gflops = 1;
};

} // namespace slsim

#endif
