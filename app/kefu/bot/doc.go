// Package bot answers WeChat users' questions for kefu.bot.ask. Bot is the
// interface the kefu module streams from; FAQ is the built-in one, which
// answers from a FAQ file (YAML or JSON; the kefu.faq setting or
// MSGO_KEFU_FAQ names it, and faq.yaml in this directory is embedded as
// the default) and streams its answer a few characters at a time.
//
//	b, err := bot.LoadFAQ(cfg.Kefu.FAQ) // "" = the built-in FAQ
//	if err != nil {
//		return err // a FAQ file that is missing or wrong stops the start
//	}
//	err = b.Answer(ctx, bot.Question{SessionID: sid, Text: "how do I get a refund?"},
//		func(chunk string) error { return stream.Send(chunk) })
//	// err is ctx.Err() when ctx ended first (the user disconnected)
//
// Another bot (a language model, a search service) implements Bot and is
// given to kefu.Options.Bot; it must stop when its ctx is done.
//
// Matching is deliberately simple and predictable, so that whoever edits
// the file can tell which entry answers: keywords, no scoring model. See
// faq.yaml for the rules.
//
// Concurrency: a FAQ is immutable after LoadFAQ and serves any number of
// Answer calls at once; each call runs on its caller's goroutine and waits
// between chunks on a timer of its own.
package bot
