#include "common/csv-reader.h"

namespace slsim
{

std::vector<std::vector<std::string>>
ParseCsv(const std::string& text)
{
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string cell;
    bool quoted = false, any = false;
    for (size_t i = 0; i < text.size(); ++i)
    {
        const char ch = text[i];
        if (quoted)
        {
            if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"')
            {
                cell += '"';
                ++i;
            }
            else if (ch == '"')
            {
                quoted = false;
            }
            else
            {
                cell += ch;
            }
            continue;
        }
        if (ch == '"')
        {
            quoted = true;
            any = true;
        }
        else if (ch == ',')
        {
            row.push_back(cell);
            cell.clear();
            any = true;
        }
        else if (ch == '\n')
        {
            row.push_back(cell);
            rows.push_back(row);
            row.clear();
            cell.clear();
            any = false;
        }
        else if (ch != '\r')
        {
            cell += ch;
            any = true;
        }
    }
    if (any)
    {
        row.push_back(cell);
        rows.push_back(row);
    }
    return rows;
}

} // namespace slsim
