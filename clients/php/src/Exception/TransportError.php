<?php
declare(strict_types=1);

namespace Msgo\Exception;

/** No usable answer: the connection was refused, timed out, or the body was not msgo's JSON. */
class TransportError extends MsgoException
{
}
