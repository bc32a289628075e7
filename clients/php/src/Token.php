<?php
declare(strict_types=1);

namespace Msgo;

use Msgo\Exception\InvalidToken;

/**
 * msgo's auth token: the claims {id, type, code, nickname, ctime} as JSON,
 * sealed with AES-256-GCM under SHA-256(secret), a random 12-byte nonce and
 * no additional data, written as base64url without padding of
 * nonce || ciphertext || 16-byte tag. The secret is msgo's auth.secret
 * (MSGO_AUTH_SECRET, or the runtime/secret file it generated).
 *
 *     $token = Token::mint(['id' => $openid, 'type' => 'wechatUser', 'code' => 'room1', 'nickname' => '小明'], $secret);
 *     $url   = "wss://ws.example.com/ws?auth=$token";
 */
final class Token
{
    /** The user types msgo knows. */
    public const TYPES = ['wechatUser', 'wall', 'kefu'];

    /** msgo's default auth.ttl, seconds. */
    public const DEFAULT_TTL = 86400;

    /** How far in the future a ctime may lie (clock skew between hosts). */
    public const MAX_SKEW = 60;

    private const CIPHER = 'aes-256-gcm';
    private const NONCE_BYTES = 12;
    private const TAG_BYTES = 16;

    /**
     * Mints a token. id (a string, or an integer) and type are required; code
     * and nickname default to ''; ctime, when not given, is $now, or time().
     *
     * @param array{id: string|int, type: string, code?: string, nickname?: string, ctime?: int} $claims
     * @throws \InvalidArgumentException when id is empty or type unknown
     */
    public static function mint(array $claims, string $secret, ?int $now = null): string
    {
        $id = $claims['id'] ?? '';
        if (!(is_string($id) || is_int($id)) || $id === '') {
            throw new \InvalidArgumentException('msgo token: id must be a non-empty string or an integer');
        }
        $type = $claims['type'] ?? '';
        if (!in_array($type, self::TYPES, true)) {
            throw new \InvalidArgumentException(sprintf('msgo token: type must be one of %s, got %s', implode(', ', self::TYPES), json_encode($type)));
        }
        $body = [
            'id' => $id,
            'type' => $type,
            'code' => (string) ($claims['code'] ?? ''),
            'nickname' => (string) ($claims['nickname'] ?? ''),
            'ctime' => (int) ($claims['ctime'] ?? $now ?? time()),
        ];
        $json = json_encode($body, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        $nonce = random_bytes(self::NONCE_BYTES);
        $tag = '';
        $sealed = openssl_encrypt($json, self::CIPHER, self::key($secret), OPENSSL_RAW_DATA, $nonce, $tag, '', self::TAG_BYTES);
        if ($sealed === false) {
            throw new \RuntimeException('msgo token: openssl_encrypt failed: ' . (string) openssl_error_string());
        }
        return rtrim(strtr(base64_encode($nonce . $sealed . $tag), '+/', '-_'), '=');
    }

    /**
     * Opens a token as msgo does and returns its claims, id as a string. It
     * throws when the token is malformed, does not decrypt under the secret,
     * has an unknown type or an empty id, is older than $ttl seconds or more
     * than a minute in the future.
     *
     * @return array{id: string, type: string, code: string, nickname: string, ctime: int}
     * @throws InvalidToken
     */
    public static function open(string $token, string $secret, int $ttl = self::DEFAULT_TTL, ?int $now = null): array
    {
        // Only unpadded base64url: a token has one spelling, as in msgo.
        if ($token === '' || strspn($token, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') !== strlen($token) || strlen($token) % 4 === 1) {
            throw new InvalidToken('msgo token: not unpadded base64url');
        }
        $raw = base64_decode(strtr($token, '-_', '+/'), true);
        if ($raw === false || strlen($raw) <= self::NONCE_BYTES + self::TAG_BYTES) {
            throw new InvalidToken('msgo token: too short');
        }
        $nonce = substr($raw, 0, self::NONCE_BYTES);
        $tag = substr($raw, -self::TAG_BYTES);
        $sealed = substr($raw, self::NONCE_BYTES, -self::TAG_BYTES);
        $json = openssl_decrypt($sealed, self::CIPHER, self::key($secret), OPENSSL_RAW_DATA, $nonce, $tag);
        if ($json === false) {
            throw new InvalidToken('msgo token: does not decrypt (tampered, or another secret)');
        }
        $c = json_decode($json, true);
        if (!is_array($c) || !isset($c['ctime']) || !is_int($c['ctime'])) {
            throw new InvalidToken('msgo token: claims are not msgo claims');
        }
        $id = $c['id'] ?? '';
        if (is_int($id)) {
            $id = (string) $id;
        }
        if (!is_string($id) || $id === '') {
            throw new InvalidToken('msgo token: empty id');
        }
        if (!in_array($c['type'] ?? null, self::TYPES, true)) {
            throw new InvalidToken('msgo token: unknown type');
        }
        $now ??= time();
        if ($now - $c['ctime'] > $ttl) {
            throw new InvalidToken('msgo token: expired');
        }
        if ($c['ctime'] > $now + self::MAX_SKEW) {
            throw new InvalidToken('msgo token: issued in the future');
        }
        return [
            'id' => $id,
            'type' => $c['type'],
            'code' => is_string($c['code'] ?? null) ? $c['code'] : '',
            'nickname' => is_string($c['nickname'] ?? null) ? $c['nickname'] : '',
            'ctime' => $c['ctime'],
        ];
    }

    private static function key(string $secret): string
    {
        return hash('sha256', $secret, true);
    }
}
