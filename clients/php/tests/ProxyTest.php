<?php
declare(strict_types=1);

namespace Msgo\Tests;

use Msgo\Exception\BadRequest;
use Msgo\Exception\NotFound;
use Msgo\Exception\Unauthorized;
use Msgo\Proxy;
use Msgo\Proxy\Request;
use PHPUnit\Framework\TestCase;

final class ProxyTest extends TestCase
{
    use NeedsEnv;

    private const CLIENT = ['conn' => 'n1/42', 'node' => 'n1', 'ip' => '10.0.0.7', 'user' => ['id' => 'u1', 'type' => 'wechatUser', 'code' => 'r1', 'nickname' => '小明']];

    private static function body(array $fields): string
    {
        return json_encode(['client' => self::CLIENT] + $fields, JSON_UNESCAPED_UNICODE);
    }

    public function testParsesConnect(): void
    {
        $r = (new Proxy('tok'))->parse('/msgo/connect', self::body(['headers' => ['origin' => 'https://a.example', 'user-agent' => 'wx']]), 'Bearer tok');
        $this->assertTrue($r->isConnect());
        $this->assertSame(Request::CONNECT, $r->kind);
        $this->assertSame(['n1/42', 'n1', '10.0.0.7', 'u1', 'wechatUser', 'r1', '小明'], [$r->client->conn, $r->client->node, $r->client->ip, $r->client->id, $r->client->type, $r->client->code, $r->client->nickname]);
        $this->assertSame(['origin' => 'https://a.example', 'user-agent' => 'wx'], $r->headers);
    }

    public function testParsesRpc(): void
    {
        $r = (new Proxy())->parse('rpc', self::body(['method' => 'shop.order.create', 'id' => 'a7', 'param' => ['sku' => 'X', 'qty' => 2]]));
        $this->assertTrue($r->isRpc());
        $this->assertSame(['shop.order.create', 'a7', ['sku' => 'X', 'qty' => 2]], [$r->method, $r->id, $r->param]);
        $this->assertSame(7, (new Proxy())->parse('/rpc', self::body(['method' => 'm', 'id' => 7, 'param' => []]))->id, 'a numeric id stays a number');
        $this->assertNull((new Proxy())->parse('/rpc', self::body(['method' => 'm', 'id' => null, 'param' => []]))->id);
    }

    public function testParsesDisconnect(): void
    {
        $r = (new Proxy())->parse('/hooks/msgo/disconnect/', self::body(['event_id' => 'e-1', 'code' => 1006, 'reason' => 'node lost', 'time' => 1_700_000_000_123, 'duration_ms' => 5000]));
        $this->assertTrue($r->isDisconnect());
        $this->assertSame(['e-1', 1006, 'node lost', 1_700_000_000_123, 5000], [$r->eventId, $r->code, $r->reason, $r->time, $r->durationMs]);
    }

    /** @dataProvider wrongTokens */
    public function testChecksTheBearerToken(?string $authorization): void
    {
        $this->expectException(Unauthorized::class);
        (new Proxy('tok'))->parse('/connect', self::body([]), $authorization);
    }

    public static function wrongTokens(): array
    {
        return ['missing' => [null], 'empty' => [''], 'wrong' => ['Bearer tok2'], 'not bearer' => ['tok'], 'prefix' => ['Bearer to']];
    }

    public function testRefusesOtherPathsAndBodies(): void
    {
        $p = new Proxy();
        foreach (['/', '/msgo/connectx', '/rpc/extra'] as $path) {
            try {
                $p->parse($path, self::body([]));
                $this->fail("parsed $path");
            } catch (NotFound $e) {
                $this->assertSame(404, $e->getStatus());
            }
        }
        foreach (['', 'null', '[]', '[1]', '{"client":1}', '{}', '{'] as $body) {
            try {
                $p->parse('/connect', (string) $body);
                $this->fail("parsed $body");
            } catch (BadRequest $e) {
                $this->assertSame(400, $e->getStatus());
            }
        }
        $this->expectException(BadRequest::class);
        $p->parse('/rpc', self::body(['param' => []]));
    }

    public function testAnswers(): void
    {
        $this->assertSame('{"status":200,"rooms":["r1","2"],"param":{}}', Proxy::json(Proxy::accept(['r1', 2], [])));
        $this->assertSame('{"status":200,"rooms":[]}', Proxy::json(Proxy::accept()));
        $this->assertSame('{"status":403,"info":"banned"}', Proxy::json(Proxy::refuse(403, 'banned')));
        $this->assertSame('{"status":200,"info":"","param":{}}', Proxy::json(Proxy::reply()));
        $this->assertSame('{"status":422,"info":"库存不足","param":{"left":0}}', Proxy::json(Proxy::reply(422, '库存不足', ['left' => 0])));
        $this->assertSame('{"status":200}', Proxy::json(Proxy::ok()));
        foreach ([fn () => Proxy::refuse(200), fn () => Proxy::reply(201), fn () => Proxy::reply(500)] as $bad) {
            try {
                $bad();
                $this->fail('a status msgo would take for a failing backend was accepted');
            } catch (\InvalidArgumentException) {
                $this->addToAssertionCount(1);
            }
        }
    }

    public function testHandleDispatchesToAnObjectByKind(): void
    {
        $backend = new class () {
            public array $seen = [];

            public function connect(Request $r): array
            {
                return Proxy::accept([$r->client->code]);
            }

            public function rpc(Request $r): array
            {
                if (($r->param['qty'] ?? 0) < 1) {
                    throw new BadRequest('qty must be positive');
                }
                return Proxy::reply(200, 'ok', ['method' => $r->method]);
            }

            public function disconnect(Request $r): ?array
            {
                $this->seen[] = $r->eventId;
                return null;
            }
        };
        $p = new Proxy('tok');
        $res = $p->handle('/connect', self::body([]), 'Bearer tok', $backend);
        $this->assertSame([200, '{"status":200,"rooms":["r1"]}'], [$res->status, $res->body]);
        $this->assertSame('application/json; charset=utf-8', $res->headers['Content-Type']);

        $res = $p->handle('/rpc', self::body(['method' => 'shop.x', 'id' => 1, 'param' => ['qty' => 1]]), 'Bearer tok', $backend);
        $this->assertSame([200, '{"status":200,"info":"ok","param":{"method":"shop.x"}}'], [$res->status, $res->body]);

        $res = $p->handle('/rpc', self::body(['method' => 'shop.x', 'id' => 1, 'param' => []]), 'Bearer tok', $backend);
        $this->assertSame([200, '{"status":400,"info":"qty must be positive","param":{}}'], [$res->status, $res->body], 'a ClientError passes through as its status');

        $res = $p->handle('/disconnect', self::body(['event_id' => 'e9', 'code' => 1000]), 'Bearer tok', $backend);
        $this->assertSame([200, '{"status":200}'], [$res->status, $res->body]);
        $this->assertSame(['e9'], $backend->seen);

        $res = $p->handle('/connect', self::body([]), 'Bearer nope', $backend);
        $this->assertSame(401, $res->status, 'a wrong token is an HTTP error, so msgo counts the call failed');
        $this->assertSame(404, $p->handle('/nope', self::body([]), 'Bearer tok', $backend)->status);
    }

    public function testHandleTakesACallableAndAnObjectMissingAMethod(): void
    {
        $p = new Proxy();
        $res = $p->handle('/rpc', self::body(['method' => 'a.b', 'id' => null, 'param' => []]), null, fn (Request $r) => Proxy::reply(200, $r->kind));
        $this->assertSame('{"status":200,"info":"rpc","param":{}}', $res->body);
        $this->assertSame(404, $p->handle('/rpc', self::body(['method' => 'a.b']), null, new \stdClass())->status);
        $this->expectException(\LogicException::class);
        $p->handle('/connect', self::body([]), null, fn () => throw new \LogicException('a bug'));
    }

    /** The sample backend, served by php -S, answers as msgo expects. */
    public function testSampleBackend(): void
    {
        $url = $this->env('MSGO_BACKEND_URL');
        $token = $this->env('MSGO_PROXY_TOKEN');
        $events = $this->env('MSGO_BACKEND_EVENTS');
        $post = static function (string $path, array $body, ?string $tok = null) use ($url, $token): array {
            $ch = curl_init($url . $path);
            curl_setopt_array($ch, [
                CURLOPT_POSTFIELDS => json_encode($body),
                CURLOPT_HTTPHEADER => ['Content-Type: application/json', 'Authorization: Bearer ' . ($tok ?? $token)],
                CURLOPT_RETURNTRANSFER => true,
                CURLOPT_TIMEOUT => 5,
            ]);
            $out = curl_exec($ch);
            return [curl_getinfo($ch, CURLINFO_RESPONSE_CODE), json_decode((string) $out, true)];
        };
        $client = self::CLIENT;

        [$code, $a] = $post('/connect', ['client' => $client, 'headers' => ['origin' => '', 'user-agent' => 'test']]);
        $this->assertSame(200, $code);
        $this->assertSame(200, $a['status']);
        $this->assertSame(['lobby', 'r1'], $a['rooms']);
        $this->assertSame('hello 小明', $a['param']['welcome']);

        $banned = $client;
        $banned['user']['id'] = 'banned';
        [$code, $a] = $post('/connect', ['client' => $banned, 'headers' => []]);
        $this->assertSame([200, 403], [$code, $a['status']]);

        [$code, $a] = $post('/rpc', ['client' => $client, 'method' => 'shop.order.create', 'id' => 3, 'param' => ['sku' => 'tea', 'qty' => 2]]);
        $this->assertSame([200, 200, 'order created'], [$code, $a['status'], $a['info']]);
        $this->assertSame(['tea', 2, 'u1'], [$a['param']['order']['sku'], $a['param']['order']['qty'], $a['param']['order']['user']]);
        $this->assertNotEmpty($a['param']['order']['id']);

        [, $a] = $post('/rpc', ['client' => $client, 'method' => 'shop.order.create', 'id' => 3, 'param' => ['sku' => 'tea', 'qty' => 0]]);
        $this->assertSame(400, $a['status']);
        [, $a] = $post('/rpc', ['client' => $client, 'method' => 'shop.cart.list', 'id' => 3, 'param' => []]);
        $this->assertSame(404, $a['status']);

        [$code] = $post('/connect', ['client' => $client], 'wrong');
        $this->assertSame(401, $code);

        $id = self::unique('ev');
        for ($i = 0; $i < 3; $i++) { // msgo retries; the backend keeps one
            [$code, $a] = $post('/disconnect', ['client' => $client, 'event_id' => $id, 'code' => 1001, 'reason' => 'server stopping', 'time' => 1, 'duration_ms' => 2]);
            $this->assertSame([200, 200], [$code, $a['status']]);
        }
        $lines = array_filter(file($events, FILE_IGNORE_NEW_LINES), fn ($l) => (json_decode($l, true)['event_id'] ?? '') === $id);
        $this->assertCount(1, $lines);
        $this->assertSame(1001, json_decode(array_values($lines)[0], true)['code']);
    }
}
