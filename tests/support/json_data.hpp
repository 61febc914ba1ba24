#pragma once
/// \file json_data.hpp
/// The test data files (tests/data/*.json), read with nlohmann-json:
///
///     const krope::test::Json data = krope::test::load_json(KROPE_TEST_DATA_DIR "/x.json");
///     for (const krope::test::Json& entry : data.at("cases")) {
///       std::vector<double> y = krope::test::as_doubles(entry.at("y"));
///       double theta = entry.contains("theta") ? krope::test::as_double(entry.at("theta")) : 1e4;
///     }
///
/// Members and elements are read with at(), which throws on a missing key, an index out of range
/// or the wrong kind of container; strings and booleans with get<>(), which throws on any other
/// type. Numbers go through the readers below, stricter than get<>(), which would turn a boolean
/// into a number and truncate 1.5 to an integer: a malformed data file fails the test with a
/// message instead of feeding it other values.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace krope::test {

using Json = nlohmann::json;

/// Reads and parses the JSON file at `path`; throws std::runtime_error naming the file (and, for
/// malformed JSON, the line and column).
inline Json load_json(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("json: cannot open " + path);
  try {
    return Json::parse(file);
  } catch (const Json::parse_error& e) {
    throw std::runtime_error(std::string(e.what()) + " in " + path);
  }
}

namespace detail {
[[noreturn]] inline void json_type_mismatch(const char* wanted, const Json& j) {
  throw std::runtime_error(std::string("json: expected ") + wanted + ", got " +
                           (j.is_number() ? j.dump() : std::string(j.type_name())));
}
}  // namespace detail

/// A JSON number as a double (integers convert exactly up to 2^53).
inline double as_double(const Json& j) {
  if (!j.is_number()) detail::json_type_mismatch("a number", j);
  return j.get<double>();
}

/// A JSON integer (no fraction or exponent) that fits in int64.
inline std::int64_t as_int64(const Json& j) {
  if (!j.is_number_integer() ||
      (j.is_number_unsigned() &&
       j.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max())))
    detail::json_type_mismatch("an int64 integer", j);
  return j.get<std::int64_t>();
}

/// An array of numbers as doubles.
inline std::vector<double> as_doubles(const Json& j) {
  if (!j.is_array()) detail::json_type_mismatch("an array of numbers", j);
  std::vector<double> out;
  out.reserve(j.size());
  for (const Json& item : j) out.push_back(as_double(item));
  return out;
}

/// An array of integers as int64.
inline std::vector<std::int64_t> as_int64s(const Json& j) {
  if (!j.is_array()) detail::json_type_mismatch("an array of integers", j);
  std::vector<std::int64_t> out;
  out.reserve(j.size());
  for (const Json& item : j) out.push_back(as_int64(item));
  return out;
}

}  // namespace krope::test
