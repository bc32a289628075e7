package cluster

import "context"

// Broker carries payloads between nodes: publish to a channel, receive what
// is published to the channels one subscribed to.
type Broker interface {
	// Publish sends payload to every current subscriber of channel.
	Publish(ctx context.Context, channel string, payload []byte) error
	// Subscribe starts receiving payloads published to channels; when it
	// returns, the subscription is active. It survives reconnects of the
	// backend; payloads published while it is disconnected are lost.
	Subscribe(ctx context.Context, channels ...string) (Subscription, error)
}

// Message is one payload and the channel it was published to.
type Message struct {
	Channel string
	Payload []byte
}

// Subscription delivers published messages until closed.
type Subscription interface {
	// Messages returns the channel messages arrive on, in the order each
	// channel's were published; Close closes it. A payload may be shared
	// by every subscriber: treat it as read-only.
	Messages() <-chan Message
	// Close ends the subscription. It is idempotent.
	Close() error
}
