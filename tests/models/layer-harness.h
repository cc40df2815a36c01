// Test helpers: a layer bound to its own buffers, and central-difference gradient checks.
#ifndef SLSIM_TESTS_MODELS_LAYER_HARNESS_H
#define SLSIM_TESTS_MODELS_LAYER_HARNESS_H

#include "models/layers.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <vector>

namespace slsim
{

struct BoundLayer
{
    std::unique_ptr<Layer> layer;
    std::vector<float> params, grads, buffers;

    explicit BoundLayer(std::unique_ptr<Layer> l)
        : layer(std::move(l)),
          params(layer->ParameterCount()),
          grads(layer->ParameterCount()),
          buffers(layer->BufferCount())
    {
        layer->Bind(params.data(), grads.data(), buffers.data());
    }

    size_t InSize(int batch) const
    {
        return static_cast<size_t>(batch) * layer->InputShape().Numel();
    }

    size_t OutSize(int batch) const
    {
        return static_cast<size_t>(batch) * layer->OutputShape().Numel();
    }
};

inline std::vector<float>
RandomVector(size_t n, Rng& rng, double scale = 1.0)
{
    std::vector<float> v(n);
    for (float& x : v)
    {
        x = static_cast<float>(rng.Normal() * scale);
    }
    return v;
}

/// sum_i out_i r_i in double: a scalar whose gradient w.r.t. the output is r.
inline double
Dot(const float* out, const std::vector<float>& r)
{
    double s = 0;
    for (size_t i = 0; i < r.size(); ++i)
    {
        s += static_cast<double>(out[i]) * r[i];
    }
    return s;
}

/// Compares analytic and central-difference gradients of L = <layer(x), r> w.r.t. every input
/// and every parameter. Float layers: eps 1e-2 (the maps are linear or smooth between kinks) and a
/// tolerance relative to the gradient scale.
inline void
CheckLayerGradients(BoundLayer& b, std::vector<float> x, int batch, bool training, Rng& rng,
                    double tol = 2e-3, float eps = 1e-2f)
{
    const std::vector<float> r = RandomVector(b.OutSize(batch), rng);
    b.layer->Forward(x.data(), batch, training);
    const float* gx = b.layer->Backward(r.data(), true);
    const std::vector<float> gradIn(gx, gx + x.size());
    const std::vector<float> gradParams = b.grads;
    double scale = 1e-3;
    for (float g : gradIn)
    {
        scale = std::max(scale, static_cast<double>(std::fabs(g)));
    }
    for (float g : gradParams)
    {
        scale = std::max(scale, static_cast<double>(std::fabs(g)));
    }
    auto loss = [&]() { return Dot(b.layer->Forward(x.data(), batch, training), r); };
    const double center = loss();
    int kinks = 0;
    int checked = 0;
    // d/dv by central differences; a point where the one-sided slopes disagree sits on a kink
    // (ReLU, max-pool argmax) within eps and is skipped; at most a few may be.
    auto check = [&](float& v, float analytic, const char* what, size_t i) {
        const float keep = v;
        v = keep + eps;
        const double up = loss();
        v = keep - eps;
        const double down = loss();
        v = keep;
        const double numeric = (up - down) / (2.0 * eps);
        const double right = (up - center) / eps;
        const double left = (center - down) / eps;
        if (std::fabs(right - left) > tol * scale)
        {
            ++kinks;
            return;
        }
        ++checked;
        INFO(b.layer->Type() << " " << what << " " << i << " analytic " << analytic << " numeric "
                             << numeric);
        CHECK(std::fabs(numeric - analytic) <= tol * scale);
    };
    for (size_t i = 0; i < x.size(); ++i)
    {
        check(x[i], gradIn[i], "input", i);
    }
    for (size_t i = 0; i < b.params.size(); ++i)
    {
        check(b.params[i], gradParams[i], "param", i);
    }
    INFO(b.layer->Type() << ": " << kinks << " kinks skipped, " << checked << " checked");
    CHECK(kinks * 10 <= checked);
}

} // namespace slsim

#endif
