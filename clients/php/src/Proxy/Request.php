<?php
declare(strict_types=1);

namespace Msgo\Proxy;

/**
 * One call from msgo's backend proxy, parsed. kind says which: connect
 * (during a handshake: headers), rpc (a forwarded request: method, id,
 * param) or disconnect (a connection ended: eventId, code, reason, time,
 * durationMs). Fields that do not belong to the kind are empty.
 */
final class Request
{
    public const CONNECT = 'connect';
    public const RPC = 'rpc';
    public const DISCONNECT = 'disconnect';

    /**
     * @param array<string, string> $headers connect: the handshake's origin and user-agent
     * @param string|int|float|null $id      rpc: the request's id as the client sent it, or null
     * @param array<string, mixed>  $param   rpc: the request's other keys
     */
    public function __construct(
        public readonly string $kind,
        public readonly Client $client,
        public readonly array $headers = [],
        public readonly string $method = '',
        public readonly string|int|float|null $id = null,
        public readonly array $param = [],
        public readonly string $eventId = '',
        public readonly int $code = 0,
        public readonly string $reason = '',
        public readonly int $time = 0,
        public readonly int $durationMs = 0,
    ) {
    }

    public function isConnect(): bool
    {
        return $this->kind === self::CONNECT;
    }

    public function isRpc(): bool
    {
        return $this->kind === self::RPC;
    }

    public function isDisconnect(): bool
    {
        return $this->kind === self::DISCONNECT;
    }
}
