// Password hashing primitives for auth plug-ins: SHA-1, MD5, MD5-crypt (`$1$`, `$apr1$`) and bcrypt
// (`$2a$`/`$2b$`/`$2y$`). Pure code without host calls (tested natively); no external libraries.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pwsdk {
inline namespace v0 {
namespace crypto {

using Sha1Digest = std::array<uint8_t, 20>;
using Md5Digest = std::array<uint8_t, 16>;

// Incremental SHA-1 (FIPS 180-4).
class Sha1 {
 public:
  Sha1();
  void update(std::string_view data);
  Sha1Digest finish();

 private:
  void block(const uint8_t* p);
  uint32_t h_[5];
  uint8_t buf_[64];
  size_t used_ = 0;
  uint64_t total_ = 0;
};

// Incremental MD5 (RFC 1321).
class Md5 {
 public:
  Md5();
  void update(std::string_view data);
  Md5Digest finish();

 private:
  void block(const uint8_t* p);
  uint32_t h_[4];
  uint8_t buf_[64];
  size_t used_ = 0;
  uint64_t total_ = 0;
};

Sha1Digest sha1(std::string_view data);
Md5Digest md5(std::string_view data);

// The digest as a byte string (for comparisons with decoded hashes).
template <size_t N>
std::string bytes(const std::array<uint8_t, N>& digest) {
  return std::string(reinterpret_cast<const char*>(digest.data()), N);
}

// Lower-case hex of bytes ("a9993e36...").
std::string hex(std::string_view bytes);

// The 22-character MD5-crypt hash of `password` with `magic` ("$1$" or "$apr1$") and `salt` (at most 8 bytes
// are used, as crypt(3) does): the part after `<magic><salt>$`.
std::string md5Crypt(std::string_view password, std::string_view magic, std::string_view salt);

// The 31-character bcrypt hash (the part after the 22 salt characters) of `password` (cut to 72 bytes, with a
// terminating NUL when shorter) for `cost` (2^cost rounds; callers keep it small) and the 16 salt bytes.
std::string bcrypt(uint32_t cost, const std::array<uint8_t, 16>& salt, std::string_view password);

// bcrypt's radix-64 (alphabet `./A-Za-z0-9`, most significant bits first, no padding). decode returns false
// on a character outside the alphabet.
std::string bcryptEncode64(std::string_view bytes);
bool bcryptDecode64(std::string_view text, std::string& out);

// `./0-9A-Za-z` (crypt(3)) and `./A-Za-z0-9` (bcrypt).
extern const char kCryptAlphabet[65];
extern const char kBcryptAlphabet[65];

}  // namespace crypto
}  // namespace v0
}  // namespace pwsdk
