<?php
declare(strict_types=1);

namespace Msgo\Proxy;

/**
 * The HTTP answer to write back to msgo: hand status, headers and body to
 * the framework's response (Laravel's response(), ThinkPHP's response(),
 * Workerman's Response, Swoole's $response->status()/header()/end()).
 */
final class Response
{
    /** @param array<string, string> $headers */
    public function __construct(
        public readonly int $status,
        public readonly string $body,
        public readonly array $headers = ['Content-Type' => 'application/json; charset=utf-8'],
    ) {
    }
}
