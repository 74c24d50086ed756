// Boost.Program_options values shared by the components that declare command-line options.
#pragma once

#include <boost/program_options/value_semantic.hpp>
#include <sstream>
#include <type_traits>

namespace recsys {

// A floating-point option bound to `*v` whose --help shows the default as it is written ("0.1"),
// not as the nearest double printed in full ("0.10000000000000001").
template <class T>
boost::program_options::typed_value<T>* real_value(T* v) {
  static_assert(std::is_floating_point_v<T>, "real_value is for floating-point options");
  std::ostringstream text;
  text << *v;
  return boost::program_options::value(v)->default_value(*v, text.str());
}

}  // namespace recsys
