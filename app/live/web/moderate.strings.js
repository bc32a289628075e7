// Every word of the moderator's page, one dictionary per language; both
// complete (the browser tests check that they have the same keys).

export const STRINGS = {
  en: {
    title: 'Moderation',
    waiting: 'Waiting',
    none: 'Nothing waits for a decision.',
    onWall: 'On the wall',
    approve: 'Approve',
    reject: 'Reject',
    word: 'matched “{word}”',
    modeHoldAll: 'Every message waits for approval',
    modeOff: 'Only messages with a filtered word wait',
    guests: '{n} guests',
    gone: 'Already decided by another moderator',
    failed: 'Could not {what}: {why}',
    loadFailed: 'Could not load the waiting messages: {why}',
    joinFailed: 'Could not join the room: {why}',
    historyFailed: 'Could not load messages: {why}',
  },
  'zh-CN': {
    title: '消息审核',
    waiting: '待审核',
    none: '没有待审核的消息。',
    onWall: '已上墙',
    approve: '通过',
    reject: '拒绝',
    word: '命中“{word}”',
    modeHoldAll: '所有消息都需审核',
    modeOff: '仅含敏感词的消息需审核',
    guests: '{n} 位来宾',
    gone: '已由其他审核员处理',
    failed: '无法{what}：{why}',
    loadFailed: '无法加载待审核消息：{why}',
    joinFailed: '无法加入房间：{why}',
    historyFailed: '无法加载消息：{why}',
  },
};
