#pragma once
/// \file json.hpp
/// A small, strict JSON reader (RFC 8259) for test data: parse once, then walk the tree.
///
///     const krope::test::Json data = krope::test::load_json(KROPE_TEST_DATA_DIR "/x.json");
///     for (std::size_t i = 0; i < data["cases"].size(); ++i) {
///       const auto& entry = data["cases"][i];
///       std::vector<double> y = entry["y"].as_doubles();
///       double theta = entry.contains("theta") ? entry["theta"].as_double() : 1e4;
///     }
///
/// Accessors throw std::runtime_error naming what was expected (wrong type, missing key, index
/// out of range), so a malformed data file fails the test with a readable message.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace krope::test {

class Json {
 public:
  enum class Type { null, boolean, number, string, array, object };

  Json() = default;  // null
  static Json boolean(bool b) { return Json(Type::boolean, b ? 1.0 : 0.0); }
  static Json number(double x) { return Json(Type::number, x); }
  static Json string(std::string s) {
    Json j(Type::string, 0.0);
    j.text_ = std::move(s);
    return j;
  }
  static Json array() { return Json(Type::array, 0.0); }
  static Json object() { return Json(Type::object, 0.0); }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::null; }
  bool is_bool() const { return type_ == Type::boolean; }
  bool is_number() const { return type_ == Type::number; }
  bool is_string() const { return type_ == Type::string; }
  bool is_array() const { return type_ == Type::array; }
  bool is_object() const { return type_ == Type::object; }

  bool as_bool() const { return expect(Type::boolean).number_ != 0.0; }
  double as_double() const { return expect(Type::number).number_; }
  /// The number as an integer; throws unless it is integral and fits in int64.
  std::int64_t as_int64() const {
    const double x = as_double();
    if (std::trunc(x) != x || std::fabs(x) > 9007199254740992.0)  // 2^53: exact in a double
      throw std::runtime_error("json: expected an integer, got " + std::to_string(x));
    return static_cast<std::int64_t>(x);
  }
  const std::string& as_string() const { return expect(Type::string).text_; }
  /// An array of numbers as doubles.
  std::vector<double> as_doubles() const {
    const auto& items = expect(Type::array).items_;
    std::vector<double> out;
    out.reserve(items.size());
    for (const Json& item : items) out.push_back(item.as_double());
    return out;
  }
  /// An array of integers as int64.
  std::vector<std::int64_t> as_int64s() const {
    const auto& items = expect(Type::array).items_;
    std::vector<std::int64_t> out;
    out.reserve(items.size());
    for (const Json& item : items) out.push_back(item.as_int64());
    return out;
  }

  /// Elements of an array, or members of an object.
  std::size_t size() const {
    if (!is_array() && !is_object())
      throw std::runtime_error(std::string("json: size() of a ") + name(type_));
    return items_.size();
  }
  const Json& operator[](std::size_t index) const {
    const auto& items = expect(Type::array).items_;
    if (index >= items.size())
      throw std::runtime_error("json: index " + std::to_string(index) + " out of range (size " +
                               std::to_string(items.size()) + ")");
    return items[index];
  }

  bool contains(std::string_view key) const { return find(key) != nullptr; }
  /// The member named `key`, or nullptr.
  const Json* find(std::string_view key) const {
    expect(Type::object);
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] == key) return &items_[i];
    return nullptr;
  }
  const Json& operator[](std::string_view key) const {
    const Json* member = find(key);
    if (member == nullptr) throw std::runtime_error("json: no member \"" + std::string(key) + "\"");
    return *member;
  }
  /// Member names of an object, in file order.
  const std::vector<std::string>& keys() const { return expect(Type::object).keys_; }
  /// Elements of an array, or member values of an object (in the order of keys()).
  const std::vector<Json>& items() const {
    if (!is_array() && !is_object())
      throw std::runtime_error(std::string("json: items() of a ") + name(type_));
    return items_;
  }

  void push_back(Json value) {
    expect(Type::array);
    items_.push_back(std::move(value));
  }
  /// Adds a member; a repeated key replaces the earlier value (the last one wins, as in most
  /// readers).
  void set(std::string key, Json value) {
    expect(Type::object);
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i] == key) {
        items_[i] = std::move(value);
        return;
      }
    }
    keys_.push_back(std::move(key));
    items_.push_back(std::move(value));
  }

  static const char* name(Type type) {
    switch (type) {
      case Type::null:
        return "null";
      case Type::boolean:
        return "boolean";
      case Type::number:
        return "number";
      case Type::string:
        return "string";
      case Type::array:
        return "array";
      case Type::object:
        return "object";
    }
    return "?";
  }

 private:
  Json(Type type, double number) : type_(type), number_(number) {}

  const Json& expect(Type wanted) const {
    if (type_ != wanted)
      throw std::runtime_error(std::string("json: expected ") + name(wanted) + ", got " +
                               name(type_));
    return *this;
  }

  Type type_ = Type::null;
  double number_ = 0.0;            // number, or 0/1 for a boolean
  std::string text_;               // string
  std::vector<std::string> keys_;  // object member names, parallel to items_
  std::vector<Json> items_;        // array elements or object member values
};

namespace detail {

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  Json parse_document() {
    Json value = parse_value(0);
    skip_whitespace();
    if (pos_ != text_.size()) error("unexpected trailing characters");
    return value;
  }

 private:
  static constexpr int kMaxDepth = 512;  // guards the recursion against hostile nesting

  [[noreturn]] void error(const std::string& what) const {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw std::runtime_error("json: " + what + " at line " + std::to_string(line) + ", column " +
                             std::to_string(column));
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_whitespace() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
      ++pos_;
  }

  void expect_literal(std::string_view literal) {
    if (text_.substr(pos_, literal.size()) != literal)
      error("invalid literal (expected " + std::string(literal) + ")");
    pos_ += literal.size();
  }

  Json parse_value(int depth) {
    if (depth > kMaxDepth) error("nesting too deep");
    skip_whitespace();
    switch (peek()) {
      case '{':
        return parse_object(depth);
      case '[':
        return parse_array(depth);
      case '"':
        return Json::string(parse_string());
      case 't':
        expect_literal("true");
        return Json::boolean(true);
      case 'f':
        expect_literal("false");
        return Json::boolean(false);
      case 'n':
        expect_literal("null");
        return Json();
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return Json::number(parse_number());
        if (at_end()) error("unexpected end of input");
        error(std::string("unexpected character '") + peek() + "'");
    }
  }

  Json parse_object(int depth) {
    Json object = Json::object();
    ++pos_;  // '{'
    skip_whitespace();
    if (peek() == '}') {
      ++pos_;
      return object;
    }
    for (;;) {
      skip_whitespace();
      if (peek() != '"') error("expected a member name");
      std::string key = parse_string();
      skip_whitespace();
      if (peek() != ':') error("expected ':'");
      ++pos_;
      object.set(std::move(key), parse_value(depth + 1));
      skip_whitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return object;
      }
      error("expected ',' or '}'");
    }
  }

  Json parse_array(int depth) {
    Json array = Json::array();
    ++pos_;  // '['
    skip_whitespace();
    if (peek() == ']') {
      ++pos_;
      return array;
    }
    for (;;) {
      array.push_back(parse_value(depth + 1));
      skip_whitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return array;
      }
      error("expected ',' or ']'");
    }
  }

  // Checks the JSON number grammar, then converts the token with strtod (correctly rounded).
  double parse_number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t first = pos_;
      while (!at_end() && peek() >= '0' && peek() <= '9') ++pos_;
      return pos_ - first;
    };
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (digits() == 0) {
      error("invalid number");
    }
    if (peek() == '.') {
      ++pos_;
      if (digits() == 0) error("invalid number: digits expected after '.'");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (digits() == 0) error("invalid number: digits expected in the exponent");
    }
    const std::string token(text_.substr(start, pos_ - start));
    return std::strtod(token.c_str(), nullptr);
  }

  unsigned parse_hex4() {
    if (pos_ + 4 > text_.size()) error("truncated \\u escape");
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      code <<= 4;
      if (c >= '0' && c <= '9')
        code |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        code |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        code |= static_cast<unsigned>(c - 'A' + 10);
      else
        error("invalid hex digit in \\u escape");
    }
    return code;
  }

  static void append_utf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (at_end()) error("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) error("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end()) error("unterminated escape");
      switch (text_[pos_++]) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned code = parse_hex4();
          if (code >= 0xD800 && code <= 0xDBFF) {  // high surrogate: a low one must follow
            if (text_.substr(pos_, 2) != "\\u") error("unpaired surrogate in \\u escape");
            pos_ += 2;
            const unsigned low = parse_hex4();
            if (low < 0xDC00 || low > 0xDFFF) error("invalid low surrogate in \\u escape");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          } else if (code >= 0xDC00 && code <= 0xDFFF) {
            error("unpaired surrogate in \\u escape");
          }
          append_utf8(out, code);
          break;
        }
        default:
          --pos_;
          error("invalid escape");
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace detail

/// Parses a complete JSON document; throws std::runtime_error with line and column on bad input.
inline Json parse_json(std::string_view text) { return detail::JsonParser(text).parse_document(); }

/// Reads and parses the JSON file at `path`.
inline Json load_json(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("json: cannot open " + path);
  std::ostringstream contents;
  contents << file.rdbuf();
  try {
    return parse_json(contents.str());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + " in " + path);
  }
}

}  // namespace krope::test
