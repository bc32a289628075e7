<?php
declare(strict_types=1);

namespace Msgo\Tests;

use Msgo\Exception\BadRequest;
use Msgo\Exception\ClientError;
use Msgo\Exception\Forbidden;
use Msgo\Exception\MsgoException;
use Msgo\Exception\ServerError;
use Msgo\Exception\TransportError;
use Msgo\Manager;
use PHPUnit\Framework\TestCase;

/**
 * What the Manager sends and how it reads answers, against a stand-in
 * server (tests/fixtures/manager.php under php -S) that echoes requests and
 * answers any status: the failure modes a healthy msgo never shows.
 */
final class ManagerWireTest extends TestCase
{
    /** @var resource|null */
    private static $server = null;
    private static string $addr = '';

    public static function setUpBeforeClass(): void
    {
        $sock = stream_socket_server('tcp://127.0.0.1:0');
        self::$addr = stream_socket_get_name($sock, false);
        fclose($sock);
        $cmd = [PHP_BINARY, '-S', self::$addr, __DIR__ . '/fixtures/manager.php'];
        self::$server = proc_open($cmd, [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
        $deadline = microtime(true) + 10;
        while (@stream_socket_client('tcp://' . self::$addr, $errno, $errstr, 0.2) === false) {
            if (microtime(true) > $deadline) {
                self::fail('php -S did not start');
            }
            usleep(20_000);
        }
    }

    public static function tearDownAfterClass(): void
    {
        if (self::$server !== null) {
            proc_terminate(self::$server);
            proc_close(self::$server);
        }
    }

    private static function manager(string $prefix, string $token = 'tok'): Manager
    {
        return new Manager('http://' . self::$addr . $prefix . '/', $token, 3.0, 1.0);
    }

    public function testPostSendsJsonWithTheTokenAndNoOrigin(): void
    {
        $req = self::manager('/echo')->sendToUser('u1', 'order.paid');
        $this->assertSame('POST', $req['method']);
        $this->assertSame('/echo/api/send/user', $req['path']);
        $this->assertSame('application/json', $req['headers']['content-type']);
        $this->assertSame('Bearer tok', $req['headers']['authorization']);
        $this->assertArrayNotHasKey('origin', $req['headers']);
        $this->assertArrayNotHasKey('expect', $req['headers']);
        $this->assertSame('{"id":"u1","event":"order.paid","param":{}}', $req['body'], 'options left null are not sent; an empty param is an object');

        $req = self::manager('/echo')->dataUpdate('order', 'delete', null, [7, 'u8']);
        $this->assertSame('{"ids":[7,"u8"],"resource_type":"order","action":"delete","data":null}', $req['body']);
        $req = self::manager('/echo')->broadcast('sale', ['名' => 1.0], 'admin', 'hi');
        $this->assertSame('{"event":"sale","param":{"名":1.0},"exclude_id":"admin","info":"hi"}', $req['body']);
    }

    public function testGetSendsAQueryAndNoContentType(): void
    {
        $req = self::manager('/echo')->onlineCheck('o6 b/明', 'wall');
        $this->assertSame('GET', $req['method']);
        $this->assertSame('/echo/api/online/check', $req['path']);
        $this->assertSame('id=o6%20b%2F%E6%98%8E&type=wall', $req['query']);
        $this->assertArrayNotHasKey('content-type', $req['headers']);
        $this->assertSame('', self::manager('/echo')->onlineUsers()['query']);
        $this->assertSame('room=r1&limit=10', self::manager('/echo')->roomUsers('r1', 10)['query']);
    }

    public function testNoTokenSendsNoAuthorization(): void
    {
        $this->assertArrayNotHasKey('authorization', self::manager('/echo', '')->status()['headers']);
    }

    public function testStatusesMapToExceptions(): void
    {
        $cases = [400 => BadRequest::class, 403 => Forbidden::class, 418 => ClientError::class, 500 => ServerError::class, 503 => ServerError::class];
        foreach ($cases as $status => $class) {
            try {
                self::manager("/status/$status")->sendToRoom('r1', 'e');
                $this->fail("$status did not throw");
            } catch (MsgoException $e) {
                $this->assertSame($class, $e::class, "status $status");
                $this->assertSame($status, $e->getStatus());
                $this->assertStringContainsString('store unavailable', $e->getMessage());
                $this->assertSame(['delivered' => 3], $e->getData(), 'the answer data of a partial push');
            }
        }
    }

    public function testAnswersThatAreNotMsgoJson(): void
    {
        try {
            self::manager('/raw/502')->status();
            $this->fail('502 did not throw');
        } catch (ServerError $e) {
            $this->assertSame(502, $e->getStatus());
            $this->assertStringContainsString('bad gateway', $e->getMessage());
        }
        try {
            self::manager('/raw/200')->status();
            $this->fail('a 200 that is not JSON did not throw');
        } catch (TransportError $e) {
            $this->assertSame(200, $e->getStatus());
        }
    }
}
