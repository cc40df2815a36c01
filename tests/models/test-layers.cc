// Central-difference gradient checks for every layer type.
#include "layer-harness.h"

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
                          {2, 5, 6, 2, 2, 2, 0, true}};
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
