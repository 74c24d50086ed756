// Small string helpers shared by the CLI, the config readers and the report writers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace recsys {

// `s` without leading and trailing spaces, tabs and carriage returns.
std::string trim(const std::string& s);

// `v` in fixed notation with `digits` decimals ("0.0470"): progress lines and Markdown tables.
std::string format_fixed(double v, int digits);

// Comma-separated integers ("5,10,20"). Every element must be a whole integer in [min_value,
// max_value]; otherwise throws Error(kInvalidArgument) naming `what` (e.g. "--ks") and the element.
std::vector<int64_t> parse_int_list(const std::string& text, const std::string& what,
                                    int64_t min_value = INT64_MIN, int64_t max_value = INT64_MAX);

}  // namespace recsys
