// Error types shared by every module.
//
// - InputError: untrusted input was wrong (scenario JSON, CLI flag, file, bytes). `main` catches
//   it, prints the one-line message and exits with code 2. The message names the JSON path or the
//   file.
// - DecodeError: a malformed wire blob (a kind of InputError).
// - SLSIM_ASSERT: programmer invariants, on in every build type (NS_ASSERT is compiled out in
//   our code).
#ifndef SLSIM_COMMON_ERROR_H
#define SLSIM_COMMON_ERROR_H

#include <stdexcept>
#include <string>

namespace slsim
{

class InputError : public std::runtime_error
{
  public:
    explicit InputError(const std::string& message)
        : std::runtime_error(message)
    {
    }
};

class DecodeError : public InputError
{
  public:
    explicit DecodeError(const std::string& message)
        : InputError("decode: " + message)
    {
    }
};

[[noreturn]] void AssertFailed(const char* expr, const char* file, int line, const char* message);

} // namespace slsim

#define SLSIM_ASSERT(cond)                                                                         \
    do                                                                                             \
    {                                                                                              \
        if (!(cond))                                                                               \
        {                                                                                          \
            ::slsim::AssertFailed(#cond, __FILE__, __LINE__, "");                                  \
        }                                                                                          \
    } while (false)

#define SLSIM_ASSERT_MSG(cond, msg)                                                                \
    do                                                                                             \
    {                                                                                              \
        if (!(cond))                                                                               \
        {                                                                                          \
            ::slsim::AssertFailed(#cond, __FILE__, __LINE__, msg);                                 \
        }                                                                                          \
    } while (false)

#endif
