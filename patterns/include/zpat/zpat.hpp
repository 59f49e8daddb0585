#pragma once
// Everything an application needs: the three patterns, the Majordomo service roles, the byte
// stream and the plain datagram, the broker's roles (router, dealer, xpublisher, xsubscriber,
// relay),
// the poller and the msgpack codec, CURVE keys, the wake-up signal and the version.

#include "zpat/core/codec.hpp"
#include "zpat/core/curve.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/error.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"
#include "zpat/core/wake_signal.hpp"
#include "zpat/datagram.hpp"
#include "zpat/dealer.hpp"
#include "zpat/log.hpp"
#include "zpat/pipeline.hpp"
#include "zpat/poller.hpp"
#include "zpat/pubsub.hpp"
#include "zpat/relay.hpp"
#include "zpat/reqrep.hpp"
#include "zpat/router.hpp"
#include "zpat/service.hpp"
#include "zpat/stream.hpp"
#include "zpat/version.hpp"
