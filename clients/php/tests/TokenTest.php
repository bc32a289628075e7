<?php
declare(strict_types=1);

namespace Msgo\Tests;

use Msgo\Exception\InvalidToken;
use Msgo\Exception\MsgoException;
use Msgo\Token;
use PHPUnit\Framework\TestCase;

final class TokenTest extends TestCase
{
    use NeedsEnv;

    private const SECRET = 'php-client-secret';

    public function testMintOpensWithItsClaims(): void
    {
        $t = Token::mint(['id' => 'o6_bmjrPTlm6', 'type' => 'wechatUser', 'code' => 'room1', 'nickname' => '小明'], self::SECRET, 1_700_000_000);
        $this->assertMatchesRegularExpression('/^[A-Za-z0-9_-]+$/', $t, 'unpadded base64url');
        $this->assertSame(
            ['id' => 'o6_bmjrPTlm6', 'type' => 'wechatUser', 'code' => 'room1', 'nickname' => '小明', 'ctime' => 1_700_000_000],
            Token::open($t, self::SECRET, 86400, 1_700_000_000),
        );
    }

    public function testLayoutIsNonceCiphertextTag(): void
    {
        $json = '{"id":"u","type":"wall","code":"","nickname":"","ctime":1}';
        $raw = base64_decode(strtr(Token::mint(['id' => 'u', 'type' => 'wall', 'ctime' => 1], self::SECRET), '-_', '+/'));
        $this->assertSame(12 + strlen($json) + 16, strlen($raw));
        $plain = openssl_decrypt(substr($raw, 12, -16), 'aes-256-gcm', hash('sha256', self::SECRET, true), OPENSSL_RAW_DATA, substr($raw, 0, 12), substr($raw, -16));
        $this->assertSame($json, $plain);
    }

    public function testNoncesDiffer(): void
    {
        $c = ['id' => 'u', 'type' => 'kefu', 'ctime' => 5];
        $this->assertNotSame(Token::mint($c, self::SECRET), Token::mint($c, self::SECRET));
    }

    public function testIntegerIdReadsAsString(): void
    {
        $this->assertSame('1024', Token::open(Token::mint(['id' => 1024, 'type' => 'wall'], self::SECRET), self::SECRET)['id']);
    }

    public function testCtimeDefaultsToNow(): void
    {
        $before = time();
        $c = Token::open(Token::mint(['id' => 'u', 'type' => 'wall'], self::SECRET), self::SECRET);
        $this->assertGreaterThanOrEqual($before, $c['ctime']);
        $this->assertLessThanOrEqual(time(), $c['ctime']);
    }

    /** @dataProvider badClaims */
    public function testMintRefusesClaimsMsgoWouldRefuse(array $claims): void
    {
        $this->expectException(\InvalidArgumentException::class);
        Token::mint($claims, self::SECRET);
    }

    public static function badClaims(): array
    {
        return [
            'no id' => [['type' => 'wall']],
            'empty id' => [['id' => '', 'type' => 'wall']],
            'float id' => [['id' => 1.5, 'type' => 'wall']],
            'no type' => [['id' => 'u']],
            'unknown type' => [['id' => 'u', 'type' => 'admin']],
        ];
    }

    /** @dataProvider badTokens */
    public function testOpenRefuses(callable $token, string $why): void
    {
        try {
            Token::open($token(), self::SECRET, 3600, 1_700_000_000);
            $this->fail('opened a token that is ' . $why);
        } catch (InvalidToken $e) {
            $this->assertInstanceOf(MsgoException::class, $e);
            $this->assertSame(403, $e->getStatus());
        }
    }

    public static function badTokens(): array
    {
        $mint = static fn (int $ctime, string $secret = self::SECRET) => Token::mint(['id' => 'u', 'type' => 'wall', 'ctime' => $ctime], $secret);
        return [
            'tampered' => [static function () use ($mint) {
                $t = $mint(1_700_000_000);
                $t[20] = $t[20] === 'A' ? 'B' : 'A';
                return $t;
            }, 'tampered'],
            'other secret' => [static fn () => $mint(1_700_000_000, 'another'), 'minted with another secret'],
            'expired' => [static fn () => $mint(1_700_000_000 - 3601), 'expired'],
            'future' => [static fn () => $mint(1_700_000_000 + 61), 'more than a minute in the future'],
            'padded' => [static fn () => $mint(1_700_000_000) . '=', 'padded'],
            'std base64' => [static fn () => strtr($mint(1_700_000_000), '-_', '+/') . 'A+', 'standard base64'],
            'short' => [static fn () => 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'too short'],
            'empty' => [static fn () => '', 'empty'],
            'not claims' => [static function () {
                $nonce = random_bytes(12);
                $tag = '';
                $ct = openssl_encrypt('[1,2]', 'aes-256-gcm', hash('sha256', self::SECRET, true), OPENSSL_RAW_DATA, $nonce, $tag);
                return rtrim(strtr(base64_encode($nonce . $ct . $tag), '+/', '-_'), '=');
            }, 'not a claims object'],
        ];
    }

    public function testEdgesOfTheValidWindow(): void
    {
        $now = 1_700_000_000;
        $c = ['id' => 'u', 'type' => 'wall'];
        $this->assertSame($now - 3600, Token::open(Token::mint($c + ['ctime' => $now - 3600], self::SECRET), self::SECRET, 3600, $now)['ctime']);
        $this->assertSame($now + 60, Token::open(Token::mint($c + ['ctime' => $now + 60], self::SECRET), self::SECRET, 3600, $now)['ctime']);
    }

    /** A token printed by `msgo token` opens in PHP with the same claims. */
    public function testOpensTokenMintedByMsgo(): void
    {
        $bin = $this->env('MSGO_BIN');
        $secret = $this->env('MSGO_AUTH_SECRET');
        $cmd = [$bin, 'token', '--id', 'go-minted', '--type', 'wechatUser', '--code', 'r-go', '--nickname', '小红', '--ttl', '600'];
        $p = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, ['MSGO_AUTH_SECRET' => $secret] + getenv());
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        $this->assertSame(0, proc_close($p), "msgo token: $err");
        $token = trim(strtok($out, "\n"));
        $c = Token::open($token, $secret);
        $this->assertSame(['go-minted', 'wechatUser', 'r-go', '小红'], [$c['id'], $c['type'], $c['code'], $c['nickname']]);
        // --ttl 600 under msgo's default auth.ttl: valid now, expired in 700 s.
        $this->expectException(InvalidToken::class);
        Token::open($token, $secret, Token::DEFAULT_TTL, time() + 700);
    }

    /** msgo accepts a token minted in PHP, in the query or as a subprotocol, and refuses a tampered one. */
    public function testMsgoAcceptsTokenMintedInPhp(): void
    {
        $ws = $this->env('MSGO_WS_URL');
        $secret = $this->env('MSGO_AUTH_SECRET');
        $token = Token::mint(['id' => self::unique('php-minted'), 'type' => 'wall', 'nickname' => '墙'], $secret);

        $c = new WsClient("$ws?auth=$token");
        $this->assertSame(101, $c->status);
        $c->send(['method' => 'index.index.whoami', 'id' => 1]);
        $me = $c->await('index.index.whoami')['param'];
        $this->assertSame(Token::open($token, $secret)['id'], $me['id']);
        $this->assertSame('墙', $me['nickname']);

        $c = new WsClient($ws, ['msgo', "auth.$token"]);
        $this->assertSame(101, $c->status);
        $this->assertSame('msgo', $c->headers['sec-websocket-protocol'] ?? '');

        $bad = $token;
        $bad[15] = $bad[15] === 'A' ? 'B' : 'A';
        $this->assertSame(403, (new WsClient("$ws?auth=$bad"))->status);
        $this->assertSame(403, (new WsClient("$ws?auth=" . Token::mint(['id' => 'u', 'type' => 'wall'], 'not-the-secret')))->status);
    }
}
