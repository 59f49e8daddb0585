#pragma once
// The weather update both sides agree on, encoded with msgpack. The zip code travels as the
// topic frame (plain text, so subscribers filter on it); the reading is the typed body.

#include "zpat/core/codec.hpp"

struct weather_reading {
    int temperature = 0;  // degrees Celsius
    int humidity = 0;     // percent
    MSGPACK_DEFINE_MAP(temperature, humidity)
};
