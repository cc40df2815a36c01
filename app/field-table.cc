#include "app/field-table.h"

#include <algorithm>

namespace slsim
{

std::string
RangeDoc(const Range& r)
{
    const std::string text = RangeText(r.min, r.max, r.minOpen, r.maxOpen);
    return text.rfind("in ", 0) == 0 ? text.substr(3) : text;
}

void
AddRange(Json& schema, const Range& r)
{
    if (r.min != -std::numeric_limits<double>::infinity())
    {
        schema[r.minOpen ? "exclusiveMinimum" : "minimum"] = r.min;
    }
    if (r.max != std::numeric_limits<double>::infinity())
    {
        schema[r.maxOpen ? "exclusiveMaximum" : "maximum"] = r.max;
    }
}

std::string
ChoiceList(const std::vector<std::string>& choices)
{
    std::string list;
    for (size_t i = 0; i < choices.size(); ++i)
    {
        list += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
    }
    return list;
}

} // namespace slsim
