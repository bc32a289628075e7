<?php
declare(strict_types=1);

namespace Msgo\Proxy;

/**
 * The connection a proxy call is about: its cluster-wide id ("node/conn"),
 * its node, the client's IP, and the user of its token.
 */
final class Client
{
    public function __construct(
        public readonly string $conn,
        public readonly string $node,
        public readonly string $ip,
        public readonly string $id,
        public readonly string $type,
        public readonly string $code,
        public readonly string $nickname,
    ) {
    }

    /** Reads the "client" object msgo sends with every call. */
    public static function fromArray(array $c): self
    {
        $u = is_array($c['user'] ?? null) ? $c['user'] : [];
        return new self(
            self::text($c['conn'] ?? ''),
            self::text($c['node'] ?? ''),
            self::text($c['ip'] ?? ''),
            self::text($u['id'] ?? ''),
            self::text($u['type'] ?? ''),
            self::text($u['code'] ?? ''),
            self::text($u['nickname'] ?? ''),
        );
    }

    private static function text(mixed $v): string
    {
        return is_string($v) || is_int($v) ? (string) $v : '';
    }
}
