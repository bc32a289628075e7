<?php
declare(strict_types=1);

namespace Msgo\Exception;

/**
 * The base of every error this package throws. The status is the HTTP status
 * msgo (or the backend proxy's rules) answered, 0 when no answer arrived; the
 * message is msgo's own; data is the answer's data, when it had any (a push
 * that failed half way still says how many connections it reached).
 */
class MsgoException extends \RuntimeException
{
    /** The status of an exception constructed without one. */
    public const STATUS = 0;

    private readonly int $status;

    /** @param ?int $status the HTTP status; null takes the class's STATUS */
    public function __construct(
        string $message,
        ?int $status = null,
        private readonly array $data = [],
        ?\Throwable $previous = null,
    ) {
        $this->status = $status ?? static::STATUS;
        parent::__construct($message, $this->status, $previous);
    }

    /** The HTTP status of the answer, 0 when none arrived. */
    public function getStatus(): int
    {
        return $this->status;
    }

    /** The answer's data, [] when it had none. */
    public function getData(): array
    {
        return $this->data;
    }

    /**
     * The exception for an HTTP status: 400 BadRequest, 401 Unauthorized,
     * 403 Forbidden, 404 NotFound, any other 4xx ClientError, 5xx ServerError,
     * anything else (0, a 3xx) TransportError.
     */
    public static function forStatus(int $status, string $message, array $data = []): self
    {
        return match (true) {
            $status === 400 => new BadRequest($message, $status, $data),
            $status === 401 => new Unauthorized($message, $status, $data),
            $status === 403 => new Forbidden($message, $status, $data),
            $status === 404 => new NotFound($message, $status, $data),
            $status >= 400 && $status < 500 => new ClientError($message, $status, $data),
            $status >= 500 && $status < 600 => new ServerError($message, $status, $data),
            default => new TransportError($message, $status, $data),
        };
    }
}
