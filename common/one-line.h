// Error messages are one line (the CLI prints one line per refusal), but they quote what the
// input held: a CSV cell, a column name or an .npy header may hold a newline.
#ifndef SLSIM_COMMON_ONE_LINE_H
#define SLSIM_COMMON_ONE_LINE_H

#include <string>

namespace slsim
{

/// `text` with control characters written as \xNN ("a\nb" -> "a\x0ab").
inline std::string
OneLine(const std::string& text)
{
    static const char* const HEX = "0123456789abcdef";
    std::string out;
    for (char ch : text)
    {
        const auto u = static_cast<unsigned char>(ch);
        if (u < 0x20 || u == 0x7f)
        {
            out += "\\x";
            out += HEX[u >> 4];
            out += HEX[u & 15];
        }
        else
        {
            out += ch;
        }
    }
    return out;
}

} // namespace slsim

#endif
