// Optimizers and learning-rate schedules against hand-computed PyTorch updates.
#include "common/error.h"
#include "models/optimizer.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace slsim;

TEST_CASE("SGD with momentum, weight decay and Nesterov follows torch.optim.SGD", "[models]")
{
    for (bool nesterov : {false, true})
    {
        OptimizerConfig c;
        c.lr = 0.1;
        c.momentum = 0.9;
        c.weightDecay = 0.01;
        c.nesterov = nesterov;
        Optimizer opt(c, 1);
        float p = 1.0f;
        double ref = 1.0;
        double buf = 0.0;
        const float grads[] = {0.5f, -0.25f, 0.125f};
        for (int t = 0; t < 3; ++t)
        {
            opt.Step(&p, &grads[t]);
            const double d = grads[t] + 0.01 * ref;
            buf = t == 0 ? d : 0.9 * buf + d;
            ref -= 0.1 * (nesterov ? d + 0.9 * buf : buf);
            CHECK(p == Approx(ref).epsilon(1e-6));
        }
    }
}

TEST_CASE("Adam follows torch.optim.Adam", "[models]")
{
    OptimizerConfig c;
    c.name = "adam";
    c.lr = 0.01;
    c.weightDecay = 0.1;
    Optimizer opt(c, 1);
    float p = 0.5f;
    double ref = 0.5, m = 0, v = 0;
    const float grads[] = {0.3f, -0.2f, 0.05f, 1.0f};
    for (int t = 1; t <= 4; ++t)
    {
        opt.Step(&p, &grads[t - 1]);
        const double g = grads[t - 1] + 0.1 * ref;
        m = 0.9 * m + 0.1 * g;
        v = 0.999 * v + 0.001 * g * g;
        const double denom = std::sqrt(v) / std::sqrt(1 - std::pow(0.999, t)) + 1e-8;
        ref -= 0.01 / (1 - std::pow(0.9, t)) * m / denom;
        CHECK(p == Approx(ref).epsilon(1e-5));
    }
}

TEST_CASE("Learning-rate schedules as torch.optim.lr_scheduler per epoch", "[models]")
{
    OptimizerConfig c;
    c.lr = 0.1;
    CHECK(LearningRateAt(c, 57) == 0.1);
    c.schedule = "step";
    c.stepEpochs = 30;
    c.gamma = 0.1;
    CHECK(LearningRateAt(c, 29) == Approx(0.1));
    CHECK(LearningRateAt(c, 30) == Approx(0.01));
    CHECK(LearningRateAt(c, 65) == Approx(0.001));
    c.schedule = "multistep";
    c.milestones = {60, 120, 160};
    c.gamma = 0.2;
    CHECK(LearningRateAt(c, 59) == Approx(0.1));
    CHECK(LearningRateAt(c, 60) == Approx(0.02));
    CHECK(LearningRateAt(c, 120) == Approx(0.004));
    CHECK(LearningRateAt(c, 199) == Approx(0.0008));
    c.schedule = "cosine";
    c.totalEpochs = 200;
    CHECK(LearningRateAt(c, 0) == Approx(0.1));
    CHECK(LearningRateAt(c, 100) == Approx(0.05));
    CHECK(LearningRateAt(c, 200) == Approx(0.0).margin(1e-12));
    c.schedule = "exp";
    CHECK_THROWS_AS(LearningRateAt(c, 0), InputError);
    c.name = "rmsprop";
    CHECK_THROWS_AS(Optimizer(c, 1), InputError);
}
