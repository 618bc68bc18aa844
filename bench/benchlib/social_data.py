"""The social dataset, generated (deterministic: the same Spec gives the same data, given numpy's
PCG64 streams): users whose posting follows a Zipf-like law, a follow graph, the readers of the feed
workloads (who follow 1, 50 and 1,000 people, a mix of active and near-silent authors) and post
texts drawn from a pseudo-word vocabulary with a Zipf distribution.

- Activity: user r writes a share of the posts proportional to (r + 10)^-1.5 (Zipf-Mandelbrot),
  rounded to whole posts, at least one each when there are as many posts as that needs. With
  10,000 users and 1,000,000 posts: user 1 writes ~46,000, user 100 ~1,450, user 1,000 ~52,
  half the users 5 or fewer (user 10,000: 1 or 2). Posts are shuffled in time, so a near-silent
  author's few posts are anywhere from the newest to the oldest.
- Strata by rank: active = the top 1% of users, middle = the next 19%, near-silent = the bottom
  half (readers excluded).
- Follows: every user who is not a reader follows FOLLOWS_EACH others picked uniformly (so about
  10 million feed rows at 1,000,000 posts); readers are followed by nobody. A reader who follows
  f > 1 people follows 10% active, 30% middle and 60% near-silent users; of the readers who
  follow one person, the even ones follow an active user, the odd ones a near-silent one.
- Text: a vocabulary of VOCABULARY pseudo-words (2-4 syllables), word r drawn with probability
  proportional to 1/r; titles 3-7 words, bodies 15-45 words. So word ~10 is in ~30% of the posts
  and words past ~5,000 in under 0.1%.
"""

from dataclasses import dataclass, field

GENERATOR_VERSION = 1  # part of the cache key: bump when anything below changes the data
FOLLOWS_EACH = 10
VOCABULARY = 30_000
ACTIVITY_S, ACTIVITY_Q = 1.5, 10
CLASSES = (1, 50, 1000)


@dataclass(frozen=True)
class Spec:
    users: int = 10_000
    posts: int = 1_000_000
    readers: int = 8  # readers per follow class
    classes: tuple = field(default=CLASSES)
    seed: int = 20260101

    def key(self):
        return (f"{self.users}u-{self.posts}p-{self.readers}r-{'-'.join(map(str, self.classes))}-"
                f"f{FOLLOWS_EACH}-v{VOCABULARY}-s{self.seed}-g{GENERATOR_VERSION}")

    def reader_ids(self, cls):
        """The readers of a follow class: the last users, class by class."""
        first = self.users - len(self.classes) * self.readers + 1 + self.classes.index(cls) * self.readers
        return list(range(first, first + self.readers))

    def all_readers(self):
        return [u for c in self.classes for u in self.reader_ids(c)]

    def follows_of_class(self, cls):
        """How many people a reader of this class follows (capped on a tiny dataset)."""
        return min(cls, (self.users - len(self.all_readers())) // 2)


def _rng(spec, stream):
    import numpy as np
    return np.random.Generator(np.random.PCG64([spec.seed, stream]))


def author_counts(spec):
    """Posts per user (index 0 = user 1), summing to spec.posts."""
    import numpy as np
    ranks = np.arange(1, spec.users + 1, dtype=np.float64)
    w = (ranks + ACTIVITY_Q) ** -ACTIVITY_S
    exact = w / w.sum() * spec.posts
    counts = np.floor(exact).astype(np.int64)
    rest = spec.posts - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")  # largest remainders first
    counts[order[:rest]] += 1
    return counts


def post_authors(spec):
    """The author of post id i + 1, for every post: each user's share, shuffled in time."""
    import numpy as np
    authors = np.repeat(np.arange(1, spec.users + 1, dtype=np.int64), author_counts(spec))
    _rng(spec, 1).shuffle(authors)
    return authors


def strata(spec):
    readers = set(spec.all_readers())
    active_end, middle_end, quiet_start = max(1, spec.users // 100), max(2, spec.users // 5), spec.users // 2 + 1
    pick = lambda lo, hi: [u for u in range(lo, hi + 1) if u not in readers]
    return pick(1, active_end), pick(active_end + 1, middle_end), pick(quiet_start, spec.users)


def follows(spec):
    """(follower, followee) pairs: everyone's uniform picks, then the readers' mixes."""
    import numpy as np
    rng = _rng(spec, 2)
    readers = set(spec.all_readers())
    others = np.array([u for u in range(1, spec.users + 1) if u not in readers], dtype=np.int64)
    pairs = []
    for u in others.tolist():
        k = min(FOLLOWS_EACH, len(others) - 1)
        picks = rng.choice(others, size=k + 1, replace=False).tolist()
        pairs.extend((u, v) for v in [p for p in picks if p != u][:k])
    active, middle, quiet = strata(spec)
    for cls in spec.classes:
        f = spec.follows_of_class(cls)
        for j, reader in enumerate(spec.reader_ids(cls)):
            if f == 1:
                chosen = [int(rng.choice(active if j % 2 == 0 else quiet))]
            else:
                chosen = _mix(rng, f, active, middle, quiet, others)
            pairs.extend((reader, v) for v in chosen)
    return pairs


def _mix(rng, f, active, middle, quiet, others):
    n_active, n_middle = round(0.1 * f), round(0.3 * f)
    chosen = []
    for pool, n in ((active, n_active), (middle, n_middle), (quiet, f - n_active - n_middle)):
        n = min(n, len(pool))
        chosen.extend(rng.choice(pool, size=n, replace=False).tolist() if n else [])
    if len(chosen) < f:  # a tiny dataset: fill up from everyone else
        left = [u for u in others.tolist() if u not in set(chosen)]
        chosen.extend(rng.choice(left, size=f - len(chosen), replace=False).tolist())
    return [int(u) for u in chosen]


def vocabulary(spec):
    """VOCABULARY distinct pseudo-words of 2-4 consonant-vowel syllables, in rank order."""
    rng = _rng(spec, 3)
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    syllables = [c + v for c in consonants for v in vowels]
    words, seen = [], set()
    while len(words) < VOCABULARY:
        n = int(rng.integers(2, 5))
        w = "".join(syllables[int(i)] for i in rng.integers(0, len(syllables), size=n))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def post_rows(spec, first_ts_us, chunk=50_000):
    """Chunks of (id, author_id, title, body, created_at) for every post, oldest (id 1) first;
    post i is written at first_ts_us + i seconds."""
    import numpy as np
    authors = post_authors(spec)
    words = vocabulary(spec)
    p = 1.0 / np.arange(1, len(words) + 1)
    cdf = np.cumsum(p / p.sum())
    rng = _rng(spec, 4)
    for start in range(0, spec.posts, chunk):
        n = min(chunk, spec.posts - start)
        t_len = rng.integers(3, 8, size=n)
        b_len = rng.integers(15, 46, size=n)
        draws = np.searchsorted(cdf, rng.random(int(t_len.sum() + b_len.sum())), side="right")
        draws = np.minimum(draws, len(words) - 1).tolist()
        rows, at = [], 0
        for i in range(n):
            title = " ".join(words[w] for w in draws[at:at + t_len[i]])
            at += int(t_len[i])
            body = " ".join(words[w] for w in draws[at:at + b_len[i]])
            at += int(b_len[i])
            pid = start + i + 1
            rows.append((pid, int(authors[start + i]), title[:1].upper() + title[1:], body + ".",
                         first_ts_us + pid * 1_000_000))
        yield rows
