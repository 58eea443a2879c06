# SPDX-License-Identifier: Apache-2.0
import errno
import unittest

import kilo

# 32 bytes of 0x01; its public key is what `wg pubkey` prints for it.
PRIVATE = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="


class TestKey(unittest.TestCase):
    def test_public_key_of_a_known_private_key(self):
        with kilo.Key.parse(PRIVATE) as private:
            public = private.public()
        self.assertEqual(public.to_base64(), "pOCSkrZRwni5dyxWn1+puxPZBrRqtoyd+dwrRAn4ogk=")
        self.assertFalse(public.private)

    def test_generated_keys_differ_and_parse_back(self):
        with kilo.Key.generate() as a, kilo.Key.generate() as b:
            self.assertNotEqual(a, b)
            with kilo.Key.parse(a.to_base64()) as again:
                self.assertEqual(again, a)
                self.assertEqual(again.public(), a.public())

    def test_repr_never_shows_a_private_key(self):
        with kilo.Key.generate() as key:
            self.assertNotIn(key.to_base64(), repr(key))
            self.assertNotIn(key.to_base64(), str(key))
            self.assertIn(key.public().to_base64(), repr(key.public()))

    def test_close_wipes_the_key(self):
        key = kilo.Key.parse(PRIVATE)
        raw = key._raw
        key.close()
        self.assertEqual(bytes(raw.bytes), bytes(32))
        self.assertEqual(repr(key), "<kilo.Key closed>")

    def test_use_after_close_is_an_error(self):
        key = kilo.Key.generate()
        key.close()
        key.close()
        for use in (key.public, key.to_base64):
            with self.subTest(use=use.__name__), self.assertRaises(kilo.ClosedError) as cm:
                use()
            self.assertEqual(cm.exception.errno, errno.EBADF)

    def test_bad_key_is_an_error_that_does_not_quote_it(self):
        for text in ("abc", "A" * 44, "!" * 43 + "=", ""):
            with self.subTest(text=text), self.assertRaises(kilo.InvalidInputError) as cm:
                kilo.Key.parse(text)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
            self.assertIn("key", cm.exception.message)
            if text:
                self.assertNotIn(text, cm.exception.message)


class TestCidr(unittest.TestCase):
    def test_parse_keeps_host_bits(self):
        self.assertEqual(kilo.parse_cidr("10.4.0.1/16"), "10.4.0.1/16")

    def test_bad_cidr_is_an_error_naming_it(self):
        with self.assertRaises(kilo.InvalidInputError) as cm:
            kilo.parse_cidr("10.0.0.0/33")
        self.assertEqual(cm.exception.message, 'cidr "10.0.0.0/33": prefix 33 is longer than 32')
        self.assertIsInstance(cm.exception, ValueError)
