// FlatLabelMap<V>: a map from 64-bit HNSW labels to V, stored flat (open addressing with
// linear probing and backward-shift deletion, no tombstones).
//
// Why not std::unordered_map: a search resolves every hit's label to its location. A
// node-based map costs two dependent cache misses per lookup (bucket, then node) and gives
// no way to start them early; here a lookup reads one slot (usually one cache line), and
// Prefetch(label) lets a caller start the misses of a whole batch of labels before it
// reads any of them.
//
// The API is the subset of std::unordered_map the engine uses (find, count, operator[],
// erase by key, iteration with ->first / ->second, size, clear, reserve), so the map can
// replace one without touching its users. Differences a user must know:
//   - insert and erase invalidate every iterator, pointer and reference into the map
//     (erase moves later slots back); lookups and iteration do not.
//   - iteration order is unspecified and changes on rehash.
// Thread safety: like std::unordered_map (concurrent const calls only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

namespace t4dx {

template <typename V>
class FlatLabelMap {
 public:
  using key_type = uint64_t;
  using mapped_type = V;
  using value_type = std::pair<uint64_t, V>;

  template <bool kConst>
  class Iter {
   public:
    using Map = std::conditional_t<kConst, const FlatLabelMap, FlatLabelMap>;
    using reference = std::conditional_t<kConst, const value_type&, value_type&>;
    using pointer = std::conditional_t<kConst, const value_type*, value_type*>;
    Iter() = default;
    Iter(Map* m, size_t i) : m_(m), i_(i) { Skip(); }
    template <bool kOther, typename = std::enable_if_t<kConst && !kOther>>
    Iter(const Iter<kOther>& o) : m_(o.m_), i_(o.i_) {}  // iterator -> const_iterator
    reference operator*() const { return m_->slots_[i_]; }
    pointer operator->() const { return &m_->slots_[i_]; }
    Iter& operator++() {
      ++i_;
      Skip();
      return *this;
    }
    bool operator==(const Iter& o) const { return i_ == o.i_; }
    bool operator!=(const Iter& o) const { return i_ != o.i_; }

   private:
    template <bool>
    friend class Iter;
    friend class FlatLabelMap;
    void Skip() {
      while (i_ < m_->slots_.size() && !m_->Used(i_)) ++i_;
    }
    Map* m_ = nullptr;
    size_t i_ = 0;
  };
  using iterator = Iter<false>;
  using const_iterator = Iter<true>;

  FlatLabelMap() = default;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, slots_.size()); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, slots_.size()); }

  iterator find(uint64_t key) { return iterator(this, Find(key)); }
  const_iterator find(uint64_t key) const { return const_iterator(this, Find(key)); }
  size_t count(uint64_t key) const { return Find(key) != slots_.size() ? 1 : 0; }

  // Starts loading the slot where key's lookup begins (a hint; no effect on contents).
  void Prefetch(uint64_t key) const {
    if (slots_.empty()) return;
    const char* p = reinterpret_cast<const char*>(&slots_[Home(key)]);
    __builtin_prefetch(p);
    __builtin_prefetch(p + sizeof(value_type) - 1);  // a slot may straddle two lines
  }

  V& operator[](uint64_t key) {
    size_t i = Find(key);
    if (i != slots_.size()) return slots_[i].second;
    if (Capacity() == 0) Rehash(kMinCapacity);
    if (key == kEmpty) {
      has_empty_key_ = true;
      ++size_;
      slots_[Sentinel()] = value_type(key, V());
      return slots_[Sentinel()].second;
    }
    if ((size_ + 1) * 4 > Capacity() * 3) Rehash(2 * Capacity());
    i = Home(key);
    while (slots_[i].first != kEmpty) i = (i + 1) & mask_;
    slots_[i] = value_type(key, V());
    ++size_;
    return slots_[i].second;
  }

  size_t erase(uint64_t key) {
    size_t i = Find(key);
    if (i == slots_.size()) return 0;
    --size_;
    if (i == Sentinel()) {
      has_empty_key_ = false;
      slots_[i] = value_type(kEmpty, V());
      return 1;
    }
    // Backward shift: move later members of the probe run into the hole, so no
    // lookup ever needs a tombstone.
    size_t hole = i;
    for (size_t j = (i + 1) & mask_; slots_[j].first != kEmpty; j = (j + 1) & mask_) {
      const size_t home = Home(slots_[j].first);
      // j may move to hole when its home is not in the cyclic range (hole, j].
      const bool home_in_range = hole < j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!home_in_range) {
        slots_[hole] = std::move(slots_[j]);
        hole = j;
      }
    }
    slots_[hole] = value_type(kEmpty, V());
    return 1;
  }

  void clear() {
    slots_.clear();
    mask_ = 0;
    size_ = 0;
    has_empty_key_ = false;
  }

  void reserve(size_t n) {
    size_t cap = kMinCapacity;
    while (cap * 3 < n * 4) cap *= 2;
    if (cap > Capacity()) Rehash(cap);
  }

 private:
  // Marks a free slot. The key kEmpty itself lives in the extra slot at Sentinel().
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  // Probe slots are a power of two, at most 3/4 full (short probe runs).
  static constexpr size_t kMinCapacity = 16;

  size_t Capacity() const { return slots_.empty() ? 0 : slots_.size() - 1; }
  size_t Sentinel() const { return slots_.size() - 1; }
  // Fibonacci hashing: consecutive labels (LSNs) land far apart.
  size_t Home(uint64_t key) const { return size_t((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_; }
  bool Used(size_t i) const { return i == Sentinel() ? has_empty_key_ : slots_[i].first != kEmpty; }
  // The slot holding key, or slots_.size() when absent.
  size_t Find(uint64_t key) const {
    if (slots_.empty()) return 0;
    if (key == kEmpty) return has_empty_key_ ? Sentinel() : slots_.size();
    for (size_t i = Home(key);; i = (i + 1) & mask_) {
      if (slots_[i].first == key) return i;
      if (slots_[i].first == kEmpty) return slots_.size();
    }
  }
  void Rehash(size_t capacity) {  // capacity: a power of two above size_
    std::vector<value_type> old = std::move(slots_);
    const bool had_empty_key = has_empty_key_;
    slots_.assign(capacity + 1, value_type(kEmpty, V()));
    mask_ = capacity - 1;
    size_ = 0;
    has_empty_key_ = false;
    for (size_t i = 0; i + 1 < old.size(); ++i) {
      if (old[i].first != kEmpty) (*this)[old[i].first] = std::move(old[i].second);
    }
    if (had_empty_key) (*this)[kEmpty] = std::move(old.back().second);
  }

  std::vector<value_type> slots_;  // Capacity() probe slots, then the sentinel slot
  size_t mask_ = 0;
  size_t size_ = 0;
  bool has_empty_key_ = false;
};

}  // namespace t4dx
