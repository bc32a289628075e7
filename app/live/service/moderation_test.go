package service

import "testing"

func TestModerationCheck(t *testing.T) {
	m, err := NewModeration(ModeOff, []string{"广告", " We Chat ", "", "!!"}, []string{"傻瓜", "SPAM"})
	if err != nil {
		t.Fatal(err)
	}
	all, err := NewModeration(ModeHoldAll, []string{"广告"}, []string{"spam"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		m       *Moderation
		content string
		v       Verdict
		word    string
	}{
		{m, "大家好", Pass, ""},
		{m, "这是广告", Hold, "广告"},
		{m, "这是 广·告！", Hold, "广告"},
		{m, "add me on w.e-c h a t", Hold, "wechat"},
		{m, "WECHAT", Hold, "wechat"},
		{m, "你是傻 瓜，看广告", Drop, "傻瓜"}, // drop wins over hold
		{m, "sp@m", Pass, ""},        // a different word, not a spelling of it
		{m, "S p A m", Drop, "spam"},
		{m, "!!", Pass, ""}, // a word of punctuation alone never matches
		{all, "大家好", Hold, ""},
		{all, "看广告", Hold, "广告"},
		{all, "spam", Drop, "spam"},
		{nil, "spam", Pass, ""},
	} {
		v, w := c.m.Check(c.content)
		if v != c.v || w != c.word {
			t.Errorf("%s Check(%q) = %d %q, want %d %q", c.m.Mode(), c.content, v, w, c.v, c.word)
		}
	}
	if _, err := NewModeration("all", nil, nil); err == nil {
		t.Error("mode all accepted")
	}
	if m, _ := NewModeration("", nil, nil); m.Mode() != ModeOff {
		t.Errorf("empty mode is %q", m.Mode())
	}
}
