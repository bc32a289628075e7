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

// Subscription delivers published payloads until closed.
type Subscription interface {
	// Payloads returns the channel payloads arrive on; Close closes it.
	// A payload may be shared by every subscriber: treat it as read-only.
	Payloads() <-chan []byte
	// Close ends the subscription. It is idempotent.
	Close() error
}
