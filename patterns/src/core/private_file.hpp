#pragma once
// The rule for files that hold a secret key (CURVE certificates, TLS private keys): only their
// owner may read or write them, as ssh refuses a private key that others can read, since whoever
// can read it can be this peer.

#include <filesystem>
#include <string>

namespace zpat::detail {

// What is wrong with `file` as the holder of a secret: it cannot be read, or its group or others
// may read or write it (the words say its mode and the chmod that fixes it). Empty when it is
// private.
std::string private_file_problem(const std::filesystem::path& file);

}  // namespace zpat::detail
