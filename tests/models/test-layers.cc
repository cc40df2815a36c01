// Central-difference gradient checks for every layer type.
#include "layer-harness.h"

#include <cstring>
#include <utility>

using namespace slsim;

namespace
{

/// Inputs kept away from ReLU / max-pool kinks: |x| >= 0.1 and all magnitudes at least 0.03
/// apart, so that +-eps (1e-2) never changes a sign or the argmax of a window.
std::vector<float>
AwayFromKinks(size_t n, Rng& rng)
{
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i)
    {
        order[i] = i;
    }
    rng.Shuffle(order);
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i)
    {
        const double mag = 0.1 + 0.03 * static_cast<double>(order[i]);
        v[i] = static_cast<float>(rng.Uniform() < 0.5 ? -mag : mag);
    }
    return v;
}

void
RandomizeParams(BoundLayer& b, Rng& rng)
{
    b.layer->Init(rng);
    for (float& p : b.params)
    {
        p += static_cast<float>(0.3 * rng.Normal());
    }
}

} // namespace

TEST_CASE("Linear gradient check", "[models][gradcheck]")
{
    Rng rng(1, "test");
    BoundLayer b(std::make_unique<Linear>(Shape{6}, 4));
    RandomizeParams(b, rng);
    CheckLayerGradients(b, RandomVector(b.InSize(3), rng), 3, true, rng);
}

TEST_CASE("Conv2d gradient check (stride, padding, kernel sizes)", "[models][gradcheck]")
{
    struct Case
    {
        int c, h, w, o, k, s, p;
        bool bias;
    };

    const Case cases[] = {{2, 5, 5, 3, 3, 1, 1, true},
                          {3, 6, 7, 2, 3, 2, 1, false},
                          {2, 4, 4, 3, 1, 1, 0, true},
                          {1, 7, 7, 2, 5, 2, 2, true},
                          {2, 5, 6, 2, 2, 2, 0, true},
                          // >= 32 output positions: per-sample products on packed weights
                          {2, 8, 8, 3, 3, 1, 1, true},
                          {2, 12, 11, 2, 3, 2, 1, false}};
    Rng rng(2, "test");
    for (const Case& c : cases)
    {
        BoundLayer b(std::make_unique<Conv2d>(Shape{c.c, c.h, c.w}, c.o, c.k, c.s, c.p, c.bias));
        RandomizeParams(b, rng);
        CheckLayerGradients(b, RandomVector(b.InSize(2), rng), 2, true, rng);
    }
}

TEST_CASE("BatchNorm2d gradient check, train and eval", "[models][gradcheck]")
{
    Rng rng(3, "test");
    for (bool training : {true, false})
    {
        BoundLayer b(std::make_unique<BatchNorm2d>(Shape{3, 2, 3}));
        RandomizeParams(b, rng);
        b.buffers[0] = 0.2f; // running_mean[0]
        b.buffers[3] = 1.5f; // running_var[0]
        CheckLayerGradients(b, RandomVector(b.InSize(4), rng, 2.0), 4, training, rng, 5e-3);
    }
}

TEST_CASE("BatchNorm2d with a fused ReLU is bit-identical to BatchNorm2d then ReLU", "[models]")
{
    Rng rng(31, "test");
    // planes of 1, 7 (tails only), 19 and 64 values (the 8-lane loops and their tails)
    for (const auto& hw : {std::pair<int, int>{1, 1}, {1, 7}, {1, 19}, {8, 8}})
    {
        for (bool training : {true, false})
        {
            const Shape shape{5, hw.first, hw.second};
            const int batch = 3;
            BoundLayer pair(std::make_unique<BatchNorm2d>(shape));
            BoundLayer fused(std::make_unique<BatchNorm2d>(shape));
            ReLU relu(shape);
            RandomizeParams(pair, rng);
            pair.params[0] = 0.0f; // gamma_0 = beta_0 = 0: channel 0 outputs +-0 (the mask's edge)
            pair.params[5] = 0.0f;
            fused.params = pair.params;
            fused.buffers = pair.buffers;
            static_cast<BatchNorm2d*>(fused.layer.get())->FuseRelu();
            const std::vector<float> x = RandomVector(pair.InSize(batch), rng, 2.0);
            const std::vector<float> g = RandomVector(pair.OutSize(batch), rng);
            const float* y
                = relu.Forward(pair.layer->Forward(x.data(), batch, training), batch, training);
            const float* yf = fused.layer->Forward(x.data(), batch, training);
            REQUIRE(std::memcmp(y, yf, sizeof(float) * g.size()) == 0);
            const float* gx = pair.layer->Backward(relu.Backward(g.data(), true), true);
            const float* gxf = fused.layer->Backward(g.data(), true);
            REQUIRE(std::memcmp(gx, gxf, sizeof(float) * x.size()) == 0);
            REQUIRE(pair.grads == fused.grads);
            REQUIRE(pair.buffers == fused.buffers);
        }
    }
}

TEST_CASE("ReLU, pools and Flatten gradient check", "[models][gradcheck]")
{
    Rng rng(4, "test");
    {
        BoundLayer b(std::make_unique<ReLU>(Shape{2, 3, 3}));
        CheckLayerGradients(b, AwayFromKinks(b.InSize(2), rng), 2, true, rng);
    }
    {
        BoundLayer b(std::make_unique<MaxPool2d>(Shape{2, 6, 6}, 2, 2));
        CheckLayerGradients(b, AwayFromKinks(b.InSize(2), rng), 2, true, rng);
    }
    {
        BoundLayer b(std::make_unique<MaxPool2d>(Shape{2, 7, 7}, 3, 2)); // overlapping windows
        CheckLayerGradients(b, AwayFromKinks(b.InSize(2), rng), 2, true, rng);
    }
    {
        BoundLayer b(std::make_unique<AvgPool2d>(Shape{2, 6, 6}, 2, 2, 2));
        CheckLayerGradients(b, RandomVector(b.InSize(2), rng), 2, true, rng);
    }
    {
        BoundLayer b(AvgPool2d::Global(Shape{3, 4, 5}));
        CheckLayerGradients(b, RandomVector(b.InSize(2), rng), 2, true, rng);
    }
    {
        BoundLayer b(std::make_unique<Flatten>(Shape{2, 3, 3}));
        CheckLayerGradients(b, RandomVector(b.InSize(2), rng), 2, true, rng);
    }
}

TEST_CASE("Dropout: gradient check with a frozen mask, statistics, eval identity",
          "[models][gradcheck]")
{
    Rng rng(5, "test");
    auto* d = new Dropout(Shape{50}, 0.3, 7, 0);
    BoundLayer b{std::unique_ptr<Layer>(d)};
    std::vector<float> x = RandomVector(b.InSize(4), rng);
    const float* y = d->Forward(x.data(), 4, true);
    int zeros = 0;
    for (size_t i = 0; i < x.size(); ++i)
    {
        zeros += y[i] == 0.0f ? 1 : 0;
        CHECK((y[i] == 0.0f || std::fabs(y[i] - x[i] / 0.7f) < 1e-6f));
    }
    CHECK(zeros > 30); // 200 values, p = 0.3: 60 expected
    CHECK(zeros < 90);
    d->FreezeMask(true);
    CheckLayerGradients(b, x, 4, true, rng);
    const float* ye = d->Forward(x.data(), 4, false);
    for (size_t i = 0; i < x.size(); ++i)
    {
        CHECK(ye[i] == x[i]);
    }
}

TEST_CASE("BasicBlock gradient check: identity, downsample and plain", "[models][gradcheck]")
{
    Rng rng(6, "test");

    struct Case
    {
        int in, planes, stride;
        bool plain;
    };

    for (const Case& c : {Case{3, 3, 1, false}, Case{2, 4, 2, false}, Case{3, 3, 1, true}})
    {
        BoundLayer b(std::make_unique<BasicBlock>(Shape{c.in, 4, 4}, c.planes, c.stride, c.plain));
        RandomizeParams(b, rng);
        // eval mode keeps the block piecewise linear so eps does not cross many kinks; training
        // mode adds the BN batch statistics, checked with a looser tolerance
        CheckLayerGradients(b, RandomVector(b.InSize(2), rng), 2, false, rng, 5e-3, 1e-3f);
        CheckLayerGradients(b, RandomVector(b.InSize(3), rng), 3, true, rng, 2e-2, 1e-3f);
    }
}

TEST_CASE("SoftmaxCrossEntropy gradient check and accuracy", "[models][gradcheck]")
{
    Rng rng(7, "test");
    const int batch = 3;
    const int classes = 5;
    std::vector<float> z = RandomVector(batch * classes, rng);
    const std::vector<int32_t> labels = {1, 4, 0};
    std::vector<float> g(z.size());
    const LossResult r = SoftmaxCrossEntropy(z.data(), labels.data(), batch, classes, g.data());
    int correct = 0;
    for (int n = 0; n < batch; ++n)
    {
        const auto* row = z.data() + n * classes;
        correct += (std::max_element(row, row + classes) - row) == labels[n] ? 1 : 0;
    }
    CHECK(r.correct == correct);
    for (size_t i = 0; i < z.size(); ++i)
    {
        const float keep = z[i];
        z[i] = keep + 1e-2f;
        const double up
            = SoftmaxCrossEntropy(z.data(), labels.data(), batch, classes, nullptr).loss;
        z[i] = keep - 1e-2f;
        const double dn
            = SoftmaxCrossEntropy(z.data(), labels.data(), batch, classes, nullptr).loss;
        z[i] = keep;
        CHECK((up - dn) / 2e-2 == Approx(g[i]).margin(1e-4));
    }
    const std::vector<int32_t> bad = {1, 5, 0};
    CHECK_THROWS_AS(SoftmaxCrossEntropy(z.data(), bad.data(), batch, classes, nullptr), InputError);
}

namespace
{

/// Direct (scalar, double-accumulating) convolution: the reference for the im2col + GEMM path.
struct DirectConv
{
    int c, h, w, o, k, s, p, oh, ow;

    std::vector<double> Forward(const std::vector<float>& x, const float* wt, const float* b,
                                int n) const
    {
        std::vector<double> y(static_cast<size_t>(n) * o * oh * ow);
        for (int i = 0; i < n; ++i)
            for (int oc = 0; oc < o; ++oc)
                for (int oy = 0; oy < oh; ++oy)
                    for (int ox = 0; ox < ow; ++ox)
                    {
                        double acc = b ? b[oc] : 0.0;
                        for (int ic = 0; ic < c; ++ic)
                            for (int ky = 0; ky < k; ++ky)
                                for (int kx = 0; kx < k; ++kx)
                                {
                                    const int iy = oy * s - p + ky;
                                    const int ix = ox * s - p + kx;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                                    {
                                        acc += static_cast<double>(
                                                   wt[((oc * c + ic) * k + ky) * k + kx])
                                               * x[((static_cast<size_t>(i) * c + ic) * h + iy) * w
                                                   + ix];
                                    }
                                }
                        y[((static_cast<size_t>(i) * o + oc) * oh + oy) * ow + ox] = acc;
                    }
        return y;
    }

    /// dX, dW, db for output gradient g.
    void Backward(const std::vector<float>& x, const float* wt, const std::vector<float>& g, int n,
                  std::vector<double>& gx, std::vector<double>& gw, std::vector<double>& gb) const
    {
        gx.assign(x.size(), 0.0);
        gw.assign(static_cast<size_t>(o) * c * k * k, 0.0);
        gb.assign(static_cast<size_t>(o), 0.0);
        for (int i = 0; i < n; ++i)
            for (int oc = 0; oc < o; ++oc)
                for (int oy = 0; oy < oh; ++oy)
                    for (int ox = 0; ox < ow; ++ox)
                    {
                        const double go
                            = g[((static_cast<size_t>(i) * o + oc) * oh + oy) * ow + ox];
                        gb[static_cast<size_t>(oc)] += go;
                        for (int ic = 0; ic < c; ++ic)
                            for (int ky = 0; ky < k; ++ky)
                                for (int kx = 0; kx < k; ++kx)
                                {
                                    const int iy = oy * s - p + ky;
                                    const int ix = ox * s - p + kx;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                                    {
                                        const size_t xi
                                            = ((static_cast<size_t>(i) * c + ic) * h + iy) * w + ix;
                                        const size_t wi = static_cast<size_t>(
                                            ((oc * c + ic) * k + ky) * k + kx);
                                        gx[xi] += go * wt[wi];
                                        gw[wi] += go * x[xi];
                                    }
                                }
                    }
    }
};

void
CheckNear(const float* a, const std::vector<double>& b, const char* what)
{
    double maxB = 0;
    double maxDiff = 0;
    for (size_t i = 0; i < b.size(); ++i)
    {
        maxB = std::max(maxB, std::fabs(b[i]));
        maxDiff = std::max(maxDiff, std::fabs(a[i] - b[i]));
    }
    INFO(what << ": max |diff| " << maxDiff << " max |ref| " << maxB);
    CHECK(maxDiff <= 1e-5 * maxB + 1e-6);
}

} // namespace

TEST_CASE("Conv2d matches a direct convolution with several im2col chunks and threads",
          "[models][conv]")
{
    // 64 channels at 64x64 with a 3x3 kernel: 2.4M im2col floats per sample, so each thread
    // works in several chunks (the backward recomputes im2col and accumulates dW over chunks);
    // 71M multiply-adds for the batch of 5, so the batch is also split over threads.
    struct Case
    {
        int c, h, w, o, k, s, p, batch;
    };

    Rng rng(12, "test");
    for (const Case& cs : {Case{64, 64, 64, 6, 3, 1, 1, 5}, Case{64, 64, 64, 5, 3, 2, 1, 3}})
    {
        BoundLayer b(
            std::make_unique<Conv2d>(Shape{cs.c, cs.h, cs.w}, cs.o, cs.k, cs.s, cs.p, true));
        RandomizeParams(b, rng);
        const Shape out = b.layer->OutputShape();
        const DirectConv ref{cs.c,
                             cs.h,
                             cs.w,
                             cs.o,
                             cs.k,
                             cs.s,
                             cs.p,
                             static_cast<int>(out.dims[1]),
                             static_cast<int>(out.dims[2])};
        const std::vector<float> x = RandomVector(b.InSize(cs.batch), rng);
        const std::vector<float> g = RandomVector(b.OutSize(cs.batch), rng);
        const float* wt = b.params.data();
        const float* bias = wt + static_cast<size_t>(cs.o) * cs.c * cs.k * cs.k;
        CheckNear(b.layer->Forward(x.data(), cs.batch, true), ref.Forward(x, wt, bias, cs.batch),
                  "forward");
        const float* gx = b.layer->Backward(g.data(), true);
        std::vector<double> rgx, rgw, rgb;
        ref.Backward(x, wt, g, cs.batch, rgx, rgw, rgb);
        CheckNear(gx, rgx, "input gradient");
        CheckNear(b.grads.data(), rgw, "weight gradient");
        CheckNear(b.grads.data() + rgw.size(), rgb, "bias gradient");
    }
}
