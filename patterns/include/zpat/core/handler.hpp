#pragma once
// What a serving role runs for each request: the request in, the reply out. A handler that
// throws loses that one request, counted by the role.

#include <functional>

#include "zpat/core/message.hpp"

namespace zpat {

using request_handler = std::function<message(message request)>;

}  // namespace zpat
