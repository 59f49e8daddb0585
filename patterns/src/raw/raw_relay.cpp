#include "raw_relay.hpp"

#include <string>

#include "seam/registry.hpp"
#include "wire.hpp"
#include "zmtp.hpp"

namespace zpat::detail {
namespace {

// The message at the front of `encoded`, decoded.
template <class Encoded>
message decoded(std::string_view encoded) {
    const auto m = Encoded::at(encoded);
    message msg;
    std::size_t at = Encoded::first_frame_at;
    for (std::size_t i = 0; i < m.frames; ++i) {
        msg.push_back(m.frame(at));
    }
    return msg;
}

// Throws what a send of the message at the front of `encoded` throws under `limits`, which
// refuse it.
template <class Encoded>
[[noreturn]] void refuse_encoded(std::string_view encoded, const options& limits) {
    refuse_unsendable(decoded<Encoded>(encoded), limits);
}

// Encoded: how the messages are framed (wire::encoded_message or zmtp::encoded_message).
template <class Encoded>
class pass_through_relay final : public relay_impl {
  public:
    pass_through_relay(encoded_source& from, encoded_sink& to) : from_(from), to_(to) {}

    relayed step(const frame_watch& watch, watched_frames which) override {
        if (held_at_ < held_.size()) {
            return send_held();
        }
        if (!from_.holds_read()) {
            // A round of reads has passed on: its messages are written before the next is read,
            // so that under a flood that never lets the source idle none waits for long.
            to_.flush_encoded();
        }
        const std::string_view waiting = from_.next_encoded();
        if (waiting.empty()) {
            return {relayed::idle, 0, 0};
        }
        if (watch) {
            show(waiting, watch, which);
        }
        const encoded_sent sent = to_.send_encoded(waiting);
        if (watch && sent.bytes < waiting.size()) {
            // The watch has seen the rest: it waits here, where nothing takes it back unseen.
            held_.assign(waiting.substr(sent.bytes));
            held_at_ = 0;
            from_.took_encoded(waiting.size());
            return sent.messages > 0 ? report(sent) : send_held();
        }
        if (sent.refused && sent.messages == 0) {
            refuse_first(waiting);
        }
        from_.took_encoded(sent.bytes);  // `waiting` may go with it
        return report(sent);
    }

  private:
    static relayed report(const encoded_sent& sent) {
        if (sent.messages == 0) {
            return {relayed::held, 0, 0};
        }
        return {relayed::moved, sent.payload, sent.messages};
    }

    // Sends what the watch saw and the destination had no room for.
    relayed send_held() {
        const std::string_view rest = std::string_view(held_).substr(held_at_);
        const encoded_sent sent = to_.send_encoded(rest);
        held_at_ += sent.bytes;
        if (sent.refused && sent.messages == 0) {
            held_at_ += Encoded::at(rest).bytes.size();
            refuse_encoded<Encoded>(rest, to_.send_limits());
        }
        if (held_at_ == held_.size()) {
            held_.clear();
            held_at_ = 0;
        }
        return report(sent);
    }

    // The destination refuses the first message waiting: it is lost, as a send that throws
    // loses it.
    [[noreturn]] void refuse_first(std::string_view waiting) {
        const std::string refused(Encoded::at(waiting).bytes);
        from_.took_encoded(refused.size());
        refuse_encoded<Encoded>(refused, to_.send_limits());
    }

    static void show(std::string_view encoded, const frame_watch& watch, watched_frames which) {
        while (!encoded.empty()) {
            const auto m = Encoded::at(encoded);
            const std::size_t shown = which == watched_frames::all ? m.frames : 1;
            std::size_t at = Encoded::first_frame_at;
            for (std::size_t i = 0; i < shown && i < m.frames; ++i) {
                const std::string_view frame = m.frame(at);
                watch(i, frame, i + 1 == m.frames);
            }
            encoded.remove_prefix(m.bytes.size());
        }
    }

    encoded_source& from_;
    encoded_sink& to_;
    std::string held_;  // watched, not yet sent: whole messages from held_at_ on
    std::size_t held_at_ = 0;
};

}  // namespace

std::unique_ptr<relay_impl> make_raw_relay(receiver_impl& from, sender_impl& to) {
    auto* source = dynamic_cast<encoded_source*>(&from);
    auto* sink = dynamic_cast<encoded_sink*>(&to);
    if (source == nullptr || sink == nullptr || source->encoding() != sink->encoding()) {
        return nullptr;
    }
    if (source->encoding() == framing::zmtp) {
        return std::make_unique<pass_through_relay<zmtp::encoded_message>>(*source, *sink);
    }
    return std::make_unique<pass_through_relay<wire::encoded_message>>(*source, *sink);
}

}  // namespace zpat::detail
