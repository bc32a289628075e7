package encrypt_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"msgo/library/encrypt"
)

// TestPHPMintedToken runs the README's PHP snippet (testdata/mint.php) and
// parses what it prints, so the snippet PHP teams copy stays right.
func TestPHPMintedToken(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("php is not installed; .ci/run installs php-cli")
		}
		t.Skip("php not installed")
	}
	const secret = "php-backend-secret"
	cmd := exec.Command(php, "testdata/mint.php")
	cmd.Env = append(os.Environ(), "MSGO_AUTH_SECRET="+secret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("php: %v\n%s", err, out)
	}
	cl, err := encrypt.New(secret, time.Hour).Parse([]byte(strings.TrimSpace(string(out))))
	if err != nil {
		t.Fatalf("parse the PHP token %q: %v", out, err)
	}
	if cl.ID != "o6_bmjrPTlm6" || cl.Type != encrypt.TypeWechatUser || cl.Code != "room1" || cl.Nickname != "小明" {
		t.Fatalf("claims: %+v", cl)
	}
}
