<?php
declare(strict_types=1);

namespace Msgo\Tests;

use Msgo\Exception\BadRequest;
use Msgo\Exception\ClientError;
use Msgo\Exception\MsgoException;
use Msgo\Exception\NotFound;
use Msgo\Exception\TransportError;
use Msgo\Exception\Unauthorized;
use Msgo\Manager;
use Msgo\Token;
use PHPUnit\Framework\TestCase;

/**
 * Every manager call against a real msgo, with real WebSocket users that
 * receive the pushes. MSGO_WS_URL and MSGO_MANAGER_URL may name different
 * nodes of one cluster: then every call crosses nodes.
 */
final class ManagerTest extends TestCase
{
    use NeedsEnv;

    private Manager $msgo;

    protected function setUp(): void
    {
        $this->msgo = new Manager($this->env('MSGO_MANAGER_URL'), getenv('MSGO_MANAGER_TOKEN') ?: '');
    }

    /** Connects a user and waits until the cluster counts it online. */
    private function connect(string $id, string $type = 'wechatUser', string $code = ''): WsClient
    {
        $token = Token::mint(['id' => $id, 'type' => $type, 'code' => $code, 'nickname' => "nick $id"], $this->env('MSGO_AUTH_SECRET'));
        $c = new WsClient($this->env('MSGO_WS_URL') . '?auth=' . $token);
        $this->assertSame(101, $c->status, "handshake as $id");
        $this->eventually(fn () => $this->msgo->onlineCheck($id, $type)['is_online'] === true, "$id online");
        return $c;
    }

    private function eventually(callable $cond, string $what, float $limit = 10.0): void
    {
        $deadline = microtime(true) + $limit;
        while (!$cond()) {
            if (microtime(true) > $deadline) {
                $this->fail("$what: not within {$limit}s");
            }
            usleep(50_000);
        }
    }

    public function testStatus(): void
    {
        $s = $this->msgo->status();
        $this->assertNotSame('', $s['node_id']);
        $this->assertArrayHasKey('version', $s);
        $this->assertIsInt($s['uptime']);
        $this->assertGreaterThanOrEqual(1, count($s['nodes']));
    }

    public function testOnlineCountUsersAndCheck(): void
    {
        $id = self::unique('online');
        $c = $this->connect($id, 'wall');
        // Other nodes' connection counts arrive with their heartbeat.
        $this->eventually(function (): bool {
            $n = $this->msgo->onlineCount();
            return $n['connections'] >= 1 && $n['users'] >= 1;
        }, 'the connection counted');

        $users = $this->msgo->onlineUsers('wall');
        $this->assertContains(['id' => $id, 'type' => 'wall'], $users['users']);
        $this->assertSame(count($users['users']), $users['count']);
        foreach ($users['users'] as $u) {
            $this->assertSame('wall', $u['type']);
        }
        $this->assertSame(['id' => $id, 'is_online' => true], $this->msgo->onlineCheck($id, 'wall'));
        $this->assertFalse($this->msgo->onlineCheck($id, 'kefu')['is_online']);
        $this->assertFalse($this->msgo->onlineCheck(self::unique('nobody'))['is_online']);
        unset($c);
    }

    public function testSendToUserReachesEveryDevice(): void
    {
        $id = self::unique('phone');
        $a = $this->connect($id);
        $b = $this->connect($id);
        $this->eventually(fn () => $this->msgo->sendToUser($id, 'probe.user', [])['delivered'] === 2, 'both devices counted', 10);
        $this->assertSame(['delivered' => 2], $this->msgo->sendToUser($id, 'order.paid', ['order' => 1024, 'name' => '订单'], 'wechatUser', '已支付'));
        foreach ([$a, $b] as $c) {
            $f = $c->await('order.paid');
            $this->assertSame(['order' => 1024, 'name' => '订单'], $f['param']);
            $this->assertSame('已支付', $f['info']);
            $this->assertSame(200, $f['status']);
            $this->assertArrayNotHasKey('id', $f);
        }
        $this->assertSame(0, $this->msgo->sendToUser($id, 'order.paid', [], 'kefu')['delivered']);
    }

    public function testSendToUsers(): void
    {
        $ids = [self::unique('u1'), self::unique('u2')];
        $cs = [$this->connect($ids[0]), $this->connect($ids[1])];
        $this->assertSame(2, $this->msgo->sendToUsers([...$ids, self::unique('offline')], 'coupon', ['value' => 5])['delivered']);
        foreach ($cs as $c) {
            $this->assertSame(['value' => 5], $c->await('coupon')['param']);
        }
    }

    public function testBroadcastExcludes(): void
    {
        $in = self::unique('in');
        $out = self::unique('out');
        $a = $this->connect($in);
        $b = $this->connect($out);
        $n = $this->msgo->broadcast('sale.start', ['at' => 12.0], $out)['delivered'];
        $this->assertGreaterThanOrEqual(1, $n);
        $this->assertSame(['at' => 12.0], $a->await('sale.start')['param']);
        $this->expectException(\RuntimeException::class);
        $b->await('sale.start', 0.5);
    }

    public function testRoomCalls(): void
    {
        $room = self::unique('room');
        $id = self::unique('member');
        $c = $this->connect($id, 'wechatUser');
        $other = $this->connect(self::unique('bystander'));

        $this->assertSame(1, $this->msgo->roomJoin($id, $room)['joined']);
        $this->assertContains($room, $this->msgo->userRooms($id)['rooms']);
        $this->assertContains($room, $this->msgo->userRooms($id, 'wechatUser')['rooms']);
        $users = $this->msgo->roomUsers($room, 10);
        $this->assertSame(1, $users['count']);
        $this->assertSame(['id' => $id, 'type' => 'wechatUser', 'nickname' => "nick $id"], $users['users'][0]);
        $this->assertSame(['connections' => 1, 'users' => 1], $this->msgo->roomCount($room));

        $this->assertSame(1, $this->msgo->sendToRoom($room, 'room.news', ['n' => 1], 'hi')['delivered']);
        $this->assertSame(['n' => 1], $c->await('room.news')['param']);

        $this->assertSame(1, $this->msgo->dataUpdate('product', 'update', ['id' => 7, 'stock' => 0], null, $room)['delivered']);
        $this->assertSame(['resource_type' => 'product', 'action' => 'update', 'data' => ['id' => 7, 'stock' => 0]], $c->await('data.update')['param']);

        $this->assertSame(1, $this->msgo->roomLeave($id, $room)['left']);
        $this->assertNotContains($room, $this->msgo->userRooms($id)['rooms']);
        $this->assertSame(['connections' => 0, 'users' => 0], $this->msgo->roomCount($room));
        $this->assertSame(0, $this->msgo->sendToRoom($room, 'room.news', [])['delivered']);
        $this->assertSame(0, $this->msgo->roomUsers($room)['count']);
        unset($other);
    }

    public function testNotifyAndDataUpdateToIds(): void
    {
        $id = self::unique('notified');
        $c = $this->connect($id);
        $this->assertSame(1, $this->msgo->notify('维护', 'tonight 23:00', 'warning', [$id])['delivered']);
        $n = $c->await('system.notice')['param'];
        $this->assertSame(['维护', 'tonight 23:00', 'warning'], [$n['title'], $n['message'], $n['level']]);
        $this->assertEqualsWithDelta(microtime(true) * 1000, $n['time'], 60_000, 'time is unix ms');

        $this->assertSame(1, $this->msgo->dataUpdate('order', 'delete', null, [$id])['delivered']);
        $this->assertSame(['resource_type' => 'order', 'action' => 'delete', 'data' => null], $c->await('data.update')['param']);
    }

    public function testDisconnectUserClosesWith1008(): void
    {
        $id = self::unique('kicked');
        $c = $this->connect($id, 'kefu');
        $d = $this->msgo->disconnectUser($id, 'kefu');
        $this->assertSame(1, $d['delivered']);
        $this->assertSame(1008, $c->awaitClose());
        $this->eventually(fn () => $this->msgo->onlineCheck($id, 'kefu')['is_online'] === false, "$id offline");
    }

    public function testOpenapiDescribesEveryCall(): void
    {
        $doc = $this->msgo->openapi();
        $this->assertStringStartsWith('3.1', $doc['openapi']);
        foreach (['/api/status', '/api/online/count', '/api/online/users', '/api/online/check', '/api/send/user', '/api/send/users',
            '/api/broadcast', '/api/send/room', '/api/notify', '/api/data-update', '/api/disconnect/user', '/api/room/join',
            '/api/room/leave', '/api/room/users', '/api/room/count', '/api/user/rooms'] as $path) {
            $this->assertArrayHasKey($path, $doc['paths'], "openapi lists $path");
        }
    }

    public function testMetrics(): void
    {
        $text = $this->msgo->metrics();
        $this->assertStringContainsString('# TYPE ', $text);
        $this->assertMatchesRegularExpression('/^msgo_\w+/m', $text);
    }

    public function testWrongTokenIsUnauthorized(): void
    {
        $this->env('MSGO_MANAGER_TOKEN');
        $bad = new Manager($this->env('MSGO_MANAGER_URL'), 'not-the-token');
        try {
            $bad->status();
            $this->fail('a wrong token was accepted');
        } catch (Unauthorized $e) {
            $this->assertSame(401, $e->getStatus());
            $this->assertInstanceOf(ClientError::class, $e);
            $this->assertInstanceOf(MsgoException::class, $e);
        }
    }

    public function testBadInputNamesTheKey(): void
    {
        try {
            $this->msgo->sendToUser('', 'e');
            $this->fail('an empty id was accepted');
        } catch (BadRequest $e) {
            $this->assertSame(400, $e->getStatus());
            $this->assertStringContainsString('id', $e->getMessage());
        }
        $this->expectException(BadRequest::class);
        $this->expectExceptionMessage('limit');
        $this->msgo->roomUsers(self::unique('room'), 0);
    }

    public function testUnknownCallIsNotFound(): void
    {
        $this->expectException(NotFound::class);
        $this->msgo->call('GET', '/api/no/such/call');
    }

    public function testNoServerIsTransportError(): void
    {
        $sock = stream_socket_server('tcp://127.0.0.1:0');
        $addr = stream_socket_get_name($sock, false);
        fclose($sock); // nothing listens there now
        try {
            (new Manager("http://$addr", 'x', 2.0, 1.0))->status();
            $this->fail('a call to a closed port answered');
        } catch (TransportError $e) {
            $this->assertSame(0, $e->getStatus());
        }
    }

    public function testTimeoutIsTransportError(): void
    {
        $sock = stream_socket_server('tcp://127.0.0.1:0'); // accepts, never answers
        $addr = stream_socket_get_name($sock, false);
        $start = microtime(true);
        try {
            (new Manager("http://$addr", 'x', 0.3, 0.3))->status();
            $this->fail('a server that never answers answered');
        } catch (TransportError $e) {
            $this->assertSame(0, $e->getStatus());
            $this->assertLessThan(5.0, microtime(true) - $start);
        } finally {
            fclose($sock);
        }
    }
}
