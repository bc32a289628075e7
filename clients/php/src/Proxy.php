<?php
declare(strict_types=1);

namespace Msgo;

use Msgo\Exception\BadRequest;
use Msgo\Exception\ClientError;
use Msgo\Exception\MsgoException;
use Msgo\Exception\NotFound;
use Msgo\Exception\Unauthorized;
use Msgo\Proxy\Client;
use Msgo\Proxy\Request;
use Msgo\Proxy\Response;

/**
 * The backend side of msgo's proxy. msgo POSTs JSON to {endpoint}/connect
 * (during a handshake), {endpoint}/rpc (a request whose method is forwarded)
 * and {endpoint}/disconnect (a connection ended); the backend answers HTTP
 * 200 with a JSON object whose "status" decides.
 *
 * A handler gets a parsed Request and returns one of the answers built
 * here: accept() or refuse() for connect, reply() for rpc, ok() (or null)
 * for disconnect. It may throw a ClientError (e.g. new BadRequest('qty'))
 * to answer that 4xx status to the client. A handler is a callable, or an
 * object with methods connect(), rpc() and disconnect().
 *
 *     // plain PHP, php-fpm or php -S
 *     (new Proxy(getenv('MSGO_PROXY_TOKEN') ?: ''))->serve(new ShopBackend());
 *
 *     // any framework: hand it the path, raw body and Authorization header
 *     $res = $proxy->handle($request->path(), $request->getContent(), $request->header('Authorization'), $backend);
 *     return response($res->body, $res->status, $res->headers);
 */
final class Proxy
{
    /** @param string $token proxy.token (MSGO_PROXY_TOKEN); '' accepts calls without one */
    public function __construct(private readonly string $token = '')
    {
    }

    /**
     * Parses a call: the kind is the path's last segment; the bearer token is
     * checked when one is configured.
     *
     * @throws Unauthorized when the bearer token is missing or wrong
     * @throws NotFound     when the path is not connect, rpc or disconnect
     * @throws BadRequest   when the body is not a proxy call
     */
    public function parse(string $path, string $body, ?string $authorization = null): Request
    {
        if ($this->token !== '' && !hash_equals('Bearer ' . $this->token, trim((string) $authorization))) {
            throw new Unauthorized('msgo proxy: missing or wrong bearer token');
        }
        $kind = basename(rtrim((string) parse_url($path, PHP_URL_PATH), '/'));
        if (!in_array($kind, [Request::CONNECT, Request::RPC, Request::DISCONNECT], true)) {
            throw new NotFound("msgo proxy: no such call: $path");
        }
        $in = json_decode($body, true);
        if (!is_array($in) || !is_array($in['client'] ?? null)) {
            throw new BadRequest('msgo proxy: the body must be a JSON object with a client');
        }
        $client = Client::fromArray($in['client']);
        return match ($kind) {
            Request::CONNECT => new Request($kind, $client, headers: self::strings($in['headers'] ?? [])),
            Request::RPC => new Request(
                $kind,
                $client,
                method: is_string($in['method'] ?? null) ? $in['method'] : throw new BadRequest('msgo proxy: rpc without a method'),
                id: is_scalar($in['id'] ?? null) && !is_bool($in['id']) ? $in['id'] : null,
                param: is_array($in['param'] ?? null) ? $in['param'] : [],
            ),
            Request::DISCONNECT => new Request(
                $kind,
                $client,
                eventId: is_string($in['event_id'] ?? null) ? $in['event_id'] : throw new BadRequest('msgo proxy: disconnect without an event_id'),
                code: (int) ($in['code'] ?? 0),
                reason: (string) ($in['reason'] ?? ''),
                time: (int) ($in['time'] ?? 0),
                durationMs: (int) ($in['duration_ms'] ?? 0),
            ),
        };
    }

    /**
     * Parses a call, runs the handler and builds the HTTP answer. A call
     * that does not parse answers its 401, 404 or 400 (msgo counts that as
     * the backend failing); a ClientError from the handler answers HTTP 200
     * with that status, which msgo passes to the client; other errors
     * propagate to the framework.
     *
     * @param callable(Request): (array|null)|object $handler
     */
    public function handle(string $path, string $body, ?string $authorization, callable|object $handler): Response
    {
        try {
            $req = $this->parse($path, $body, $authorization);
        } catch (MsgoException $e) {
            return self::failure($e->getStatus(), $e->getMessage());
        }
        if (!is_callable($handler)) {
            if (!method_exists($handler, $req->kind)) {
                return self::failure(404, sprintf('msgo proxy: %s has no %s()', $handler::class, $req->kind));
            }
            $handler = [$handler, $req->kind];
        }
        try {
            $answer = $handler($req) ?? self::ok();
        } catch (ClientError $e) {
            $answer = self::reply($e->getStatus(), $e->getMessage(), $e->getData() === [] ? null : $e->getData());
        }
        return new Response(200, self::json($answer));
    }

    /**
     * Serves the current PHP request (php-fpm, php -S, mod_php): reads the
     * path, body and Authorization header, runs the handler and writes the
     * answer. Anything the handler throws besides a ClientError is logged
     * and answered 500.
     *
     * @param callable(Request): (array|null)|object $handler
     */
    public function serve(callable|object $handler): void
    {
        if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST') {
            $res = self::failure(405, 'msgo proxy: POST only');
        } else {
            try {
                $res = $this->handle($_SERVER['REQUEST_URI'] ?? '/', (string) file_get_contents('php://input'), self::authorization(), $handler);
            } catch (\Throwable $e) {
                error_log('msgo proxy: ' . $e);
                $res = self::failure(500, 'msgo proxy: the handler failed');
            }
        }
        http_response_code($res->status);
        foreach ($res->headers as $name => $value) {
            header("$name: $value");
        }
        echo $res->body;
    }

    /**
     * Accepts a handshake: the connection is in these rooms before its 101,
     * and param, when given, is pushed to it as the first frame (sys.connect).
     *
     * @param list<string> $rooms
     */
    public static function accept(array $rooms = [], array|object|null $param = null): array
    {
        $answer = ['status' => 200, 'rooms' => array_values(array_map('strval', $rooms))];
        if ($param !== null) {
            $answer['param'] = $param === [] ? new \stdClass() : $param;
        }
        return $answer;
    }

    /** Refuses a handshake: msgo answers it 403 instead of its 101. */
    public static function refuse(int $status = 403, string $info = 'refused'): array
    {
        if ($status < 400 || $status > 499) {
            throw new \InvalidArgumentException("msgo proxy: refuse with a 4xx status, not $status");
        }
        return ['status' => $status, 'info' => $info];
    }

    /**
     * Answers an rpc: the client gets {status, info, param, event, id}. The
     * status is 200 or a 4xx, which passes through as given (msgo counts any
     * other as the backend failing).
     */
    public static function reply(int $status = 200, string $info = '', array|object|null $param = null): array
    {
        if ($status !== 200 && ($status < 400 || $status > 499)) {
            throw new \InvalidArgumentException("msgo proxy: reply with 200 or a 4xx status, not $status");
        }
        return ['status' => $status, 'info' => $info, 'param' => $param === null || $param === [] ? new \stdClass() : $param];
    }

    /** Acknowledges a disconnect event (msgo retries until it gets this). */
    public static function ok(): array
    {
        return ['status' => 200];
    }

    /** Encodes an answer as msgo reads it. */
    public static function json(array $answer): string
    {
        return json_encode($answer, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR);
    }

    /** An HTTP error answer: msgo counts the call as failed, and logs info. */
    private static function failure(int $status, string $info): Response
    {
        return new Response($status, self::json(['status' => $status, 'info' => $info]));
    }

    private static function authorization(): ?string
    {
        if (isset($_SERVER['HTTP_AUTHORIZATION'])) {
            return $_SERVER['HTTP_AUTHORIZATION'];
        }
        // Apache's mod_php hides Authorization from $_SERVER unless told.
        foreach (function_exists('getallheaders') ? getallheaders() : [] as $name => $value) {
            if (strcasecmp($name, 'Authorization') === 0) {
                return $value;
            }
        }
        return null;
    }

    /** @return array<string, string> */
    private static function strings(mixed $m): array
    {
        $out = [];
        foreach (is_array($m) ? $m : [] as $k => $v) {
            if (is_string($v)) {
                $out[(string) $k] = $v;
            }
        }
        return $out;
    }
}
